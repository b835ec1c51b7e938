import { afterEach, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "./receiver.js";
import { waitFor } from "./waitFor.js";

const receivers: Receiver[] = [];
afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
});

async function started(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const receiver = await startReceiver(...args);
  receivers.push(receiver);
  return receiver;
}

describe("startReceiver", () => {
  it("when requests arrive, then it answers them in script order, repeating the last answer, and records each with its exact body", async () => {
    const receiver = await started([
      { status: 500, body: "down" },
      { status: 201, headers: { "X-Seen": "yes" } },
    ]);
    const answers = [];
    for (const body of ["one", "two", "three"]) {
      const response = await fetch(receiver.url, { method: "POST", body });
      answers.push([response.status, response.headers.get("x-seen"), await response.text()]);
    }
    expect(answers).toEqual([
      [500, null, "down"],
      [201, "yes", ""],
      [201, "yes", ""],
    ]);
    expect(receiver.requests.map((r) => [r.method, r.url, r.body.toString()])).toEqual([
      ["POST", "/hook", "one"],
      ["POST", "/hook", "two"],
      ["POST", "/hook", "three"],
    ]);
  });

  it("when the script hangs, then the request stays open (counted in flight) until the receiver closes", async () => {
    const receiver = await started(["hang"]);
    const pending = fetch(receiver.url, { method: "POST", body: "x" }).then(
      () => "answered",
      () => "dropped",
    );
    await waitFor(() => receiver.inFlight() === 1, { what: "the request to arrive" });
    expect(receiver.peakInFlight()).toBe(1);
    await receiver.close();
    expect(await pending).toBe("dropped");
  });

  it("when the script resets, then the caller sees the connection dropped", async () => {
    const receiver = await started(["reset"]);
    await expect(fetch(receiver.url, { method: "POST", body: "x" })).rejects.toThrow();
    expect(receiver.requests).toHaveLength(1);
  });

  it("when started down, then connections are refused until `up`, on the port its URL named from the start", async () => {
    const answered: number[] = [];
    const receiver = await started((_request, index) => ({ status: 200 + index }), {
      down: true,
      onAnswered: (_request, status) => answered.push(status),
    });
    await expect(fetch(receiver.url, { method: "POST" })).rejects.toThrow();
    await receiver.up();
    expect((await fetch(receiver.url, { method: "POST" })).status).toBe(200);
    expect(answered).toEqual([200]);
  });
});
