import { connect, type Socket } from "node:net";
import { sleep } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { type BulkAnswer, BulkLoad } from "./support/bulkLoad.js";
import { mib, reportFigures } from "./support/figures.js";
import { summarize } from "./support/latencies.js";
import { rssBytes } from "./support/processes.js";
import { useScenario } from "./support/useScenario.js";

/** The authenticated client: 10 bulks of 100 events a second, for 20 s. */
const batchSize = 100;
const ratePerSecond = 10;
const loadMs = 20_000;
/** The attackers, all unauthenticated: sockets that send a request slowly, and 1 MB bodies sent at full speed. */
const slowSockets = 200;
/** Sent at full speed, each replaced as soon as the server closes it. */
const bigBodies = 40;
const bigBodyBytes = 1024 * 1024;
/** The bounds (docs/security.md). */
const p99BoundMs = 1000;
const peakRssBoundBytes = 300 * 1024 * 1024;

// The server as shipped (its worker inside, nothing to deliver).
const scenario = useScenario("hostile-callers", { tenant: "Hostile" });

interface AttackTally {
  connections: number;
  bytesSent: number;
  answers: Map<string, number>;
}

/** Opens one attacking connection that `attack` drives; resolves once it is closed, its fate counted in `tally`. */
function attackOnce(port: number, tally: AttackTally, attack: (socket: Socket) => (() => void) | undefined): Promise<void> {
  tally.connections += 1;
  return new Promise<void>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const cleanUp = attack(socket);
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      cleanUp?.();
      tally.bytesSent += socket.bytesWritten;
      const status = text === "" ? "closed without an answer" : (text.split(" ")[1] ?? "?");
      tally.answers.set(status, (tally.answers.get(status) ?? 0) + 1);
      resolve();
    });
  });
}

/**
 * Keeps `count` sockets open until `until`, each sending a request a byte at a time (every 500 ms): half stop
 * in the middle of their headers, half send whole headers announcing a 1 MB body and then trickle it. A
 * socket the server closes is replaced after one such period.
 */
async function slowLoris(port: number, count: number, until: number, tally: AttackTally): Promise<void> {
  const one = async (n: number): Promise<void> => {
    while (Date.now() < until) {
      const head =
        n % 2 === 0
          ? "POST /api/v1/events/bulk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Pad: "
          : `POST /api/v1/events/bulk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${bigBodyBytes}\r\n\r\n`;
      await attackOnce(port, tally, (socket) => {
        const drip = setInterval(() => {
          if (Date.now() >= until) socket.destroy();
          else if (socket.writable) {
            socket.write("[");
          }
        }, 500);
        socket.on("connect", () => socket.write(head));
        return () => clearInterval(drip);
      });
      // The attack's own pace: a closed socket is replaced after one drip period.
      await sleep(500);
    }
  };
  await Promise.all(Array.from({ length: count }, (_, n) => one(n)));
}

/** Keeps `count` unauthenticated 1 MB bodies in flight until `until`, each sent as fast as the socket takes it. */
async function bigBodiesFlood(port: number, count: number, until: number, tally: AttackTally): Promise<void> {
  const body = Buffer.alloc(bigBodyBytes, 0x20);
  body.write('[{"event":"x","payload":{}}', 0);
  const head = Buffer.from(
    `POST /api/v1/events/bulk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${bigBodyBytes}\r\n\r\n`,
  );
  const one = async (): Promise<void> => {
    while (Date.now() < until) {
      await attackOnce(port, tally, (socket) => {
        socket.on("connect", () => {
          socket.write(head);
          socket.write(body);
        });
        // A server that neither answers nor closes is cut here after 10 s, and counted as such.
        setTimeout(() => socket.destroy(), 10_000).unref();
      });
    }
  };
  await Promise.all(Array.from({ length: count }, () => one()));
}

describe("unauthenticated callers holding sockets and sending large bodies", () => {
  it("when they attack while a client with a key sends bulks, then the client gets no 503, p99 under 1 s, and the server stays under 300 MB with nothing acknowledged lost", async () => {
    const { deployment, server, tenant } = scenario;
    const load = new BulkLoad({ port: server.port, publishableKey: tenant.publishableKey, size: batchSize });
    const slow: AttackTally = { connections: 0, bytesSent: 0, answers: new Map() };
    const big: AttackTally = { connections: 0, bytesSent: 0, answers: new Map() };
    const rss: number[] = [];
    try {
      const baseline = await load.openLoop(ratePerSecond, 3000);
      const attackStart = Date.now();
      const until = attackStart + loadMs + 2000;
      const attacks = Promise.all([slowLoris(server.port, slowSockets, until, slow), bigBodiesFlood(server.port, bigBodies, until, big)]);
      const sampler = setInterval(() => rss.push(rssBytes(server.pid)), 500);
      let underAttack: BulkAnswer[];
      try {
        // The attack first takes hold (2 s of it, part of the scenario's schedule), then the client's load is
        // measured beside it.
        await sleep(2000);
        underAttack = await load.openLoop(ratePerSecond, loadMs);
      } finally {
        await attacks;
        clearInterval(sampler);
      }

      const acknowledged = [...baseline, ...underAttack].filter((a) => a.status === 201);
      const { rows } = await deployment.pool.query<{ r: number; n: number }>(
        "select (payload->>'r')::int as r, count(*)::int as n from events group by 1",
      );
      const storedPer = new Map(rows.map((row) => [row.r, row.n]));
      const lost = acknowledged.filter((a) => storedPer.get(a.r) !== batchSize);
      const latency = summarize(underAttack.map((a) => a.ms));
      const baselineLatency = summarize(baseline.map((a) => a.ms));
      const statuses = [...new Set(underAttack.map((a) => String(a.status)))].map(
        (s) => `${s}: ${underAttack.filter((a) => String(a.status) === s).length}`,
      );
      const show = (tally: AttackTally) =>
        `${tally.connections} connections, ${mib(tally.bytesSent)} MiB handed to their sockets (mostly never read); ${[...tally.answers].map(([s, n]) => `${s}: ${n}`).join(", ")}`;
      const peakRss = Math.max(0, ...rss);

      reportFigures("6. hostile callers", {
        sent: (baseline.length + underAttack.length) * batchSize,
        acknowledged: acknowledged.length * batchSize,
        stored: rows.reduce((sum, row) => sum + row.n, 0),
        delivered: undefined,
        duplicates: rows.filter((row) => row.n > batchSize).length,
        maxLatencyMs: latency.max,
        peakRssBytes: deployment.peakRssBytes(),
        extra: {
          "authenticated client, before the attack p50/p99/max (ms)": `${baselineLatency.p50} / ${baselineLatency.p99} / ${baselineLatency.max}`,
          "authenticated client, under attack p50/p99/max (ms)": `${latency.p50} / ${latency.p99} / ${latency.max}`,
          "authenticated client's answers under attack": statuses.join(", "),
          [`slow sockets (${slowSockets} at a time, a byte every 500 ms)`]: show(slow),
          [`1 MB bodies (${bigBodies} at a time, full speed)`]: show(big),
          "server RSS during the attack, peak (MiB)": mib(peakRss),
        },
        bounds: {
          "authenticated p99 under attack (ms)": { value: latency.p99, limit: p99BoundMs },
          "server RSS during the attack (MiB)": { value: mib(peakRss), limit: mib(peakRssBoundBytes) },
        },
      });

      expect
        .soft(
          underAttack.filter((a) => a.status !== 201).map((a) => a.failure ?? a.status),
          "the client's answers other than 201",
        )
        .toEqual([]);
      expect.soft(latency.p99, "the client's p99 under attack (ms)").toBeLessThan(p99BoundMs);
      expect.soft(peakRss, "server RSS during the attack (bytes)").toBeLessThan(peakRssBoundBytes);
      // The attackers were refused, never served: every answer they got was a 401 or a timeout's 408. A big body
      // refused while still arriving may see its connection reset before it reads the 401 (the server closes
      // the socket with the rest of the body unread).
      expect.soft([...big.answers.keys()].filter((s) => !["401", "closed without an answer"].includes(s))).toEqual([]);
      expect.soft(big.answers.get("401") ?? 0, "1 MB bodies answered 401").toBeGreaterThan(0);
      expect.soft([...slow.answers.keys()].filter((s) => !["401", "408", "closed without an answer"].includes(s))).toEqual([]);
      expect(big.connections).toBeGreaterThan(bigBodies);
      expect(lost).toEqual([]);
    } finally {
      load.close();
    }
  });
});
