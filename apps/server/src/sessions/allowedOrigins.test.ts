import { describe, expect, it } from "vitest";
import { exactOrigin, normaliseAllowedOrigins } from "./allowedOrigins.js";

describe("exactOrigin", () => {
  it.each([
    ["https://app.example.com", "https://app.example.com"],
    ["https://app.example.com/", "https://app.example.com"],
    ["HTTPS://App.Example.COM", "https://app.example.com"],
    ["https://app.example.com:443", "https://app.example.com"],
    ["http://localhost:5173", "http://localhost:5173"],
    ["http://127.0.0.1:80/", "http://127.0.0.1"],
    ["https://bücher.example", "https://xn--bcher-kva.example"],
    ["http://[::1]:8080", "http://[::1]:8080"],
  ])("when given %s, then it is the origin %s", (value, origin) => {
    expect(exactOrigin(value)).toBe(origin);
  });

  it.each([
    "https://app.example.com/embed",
    "https://app.example.com/?",
    "https://app.example.com#",
    "https://app.example.com?x=1",
    "https://user@app.example.com",
    "https://*.example.com",
    "*",
    "ftp://app.example.com",
    "app.example.com",
    " https://app.example.com",
    "null",
    "",
  ])("when given %j, then it is no exact origin", (value) => {
    expect(exactOrigin(value)).toBeUndefined();
  });
});

describe("normaliseAllowedOrigins", () => {
  it("when two spellings name one origin, then it is kept once, in first-seen order", () => {
    expect(normaliseAllowedOrigins(["https://b.example", "https://A.example/", "https://a.example:443"])).toEqual([
      "https://b.example",
      "https://a.example",
    ]);
  });

  it("when some are not origins, then a 400 names each of them by index", () => {
    expect(() => normaliseAllowedOrigins(["https://ok.example", "https://x.example/p", "*"])).toThrow(
      expect.objectContaining({
        status: 400,
        data: [expect.objectContaining({ param: "allowed_origins.1" }), expect.objectContaining({ param: "allowed_origins.2" })],
      }),
    );
  });
});
