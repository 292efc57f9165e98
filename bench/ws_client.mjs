// WebSocket load generator for bench/run_all.py (Node + ws: cheaper per connection than Python).
//   node ws_client.mjs handshake URL TOKENS_FILE COUNT CONCURRENCY  -> connections/s, connect→first frame
//   node ws_client.mjs echo URL TOKENS_FILE MESSAGES MESSAGE        -> round-trip p50/p99 on one socket
//   node ws_client.mjs hold URL TOKENS_FILE COUNT                   -> hold COUNT sockets until stdin closes
//   node ws_client.mjs play URLS TOKENS_FILE COUNT                  -> COUNT players (URLS comma-separated, one
//     each in turn) until game_start, following cluster redirects (4004); prints timings, holds until stdin closes
// TOKENS_FILE has one access token a line ("-" for none: the bare baseline). Prints one JSON line.
import { readFileSync } from "node:fs";
import WebSocket from "ws";

const [mode, url, tokensFile, countArg, extra] = process.argv.slice(2);
const tokens = tokensFile === "-" ? [null] : readFileSync(tokensFile, "utf8").split("\n").filter(Boolean);
const count = Number(countArg);

function pct(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.round((p / 100) * (sorted.length - 1)))];
}

function open(token) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const socket = new WebSocket(token ? `${url}?token=${token}` : url, { perMessageDeflate: false });
    socket.once("message", () => resolve({ socket, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    socket.once("error", reject);
    socket.once("close", (code) => reject(new Error(`closed ${code} before the first frame`)));
  });
}

async function handshake() {
  const concurrency = Number(extra);
  const latencies = [];
  let errors = 0, next = 0;
  const started = process.hrtime.bigint();
  async function worker(w) {
    while (next < count) {
      next += 1;
      try {
        const { socket, ms } = await open(tokens[w % tokens.length]);
        latencies.push(ms);
        socket.removeAllListeners("close");
        await new Promise((resolve) => { socket.once("close", resolve); socket.close(1000); });
      } catch (error) {
        errors += 1;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { rate: latencies.length / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99), ok: latencies.length, errors };
}

async function echo() {
  const { socket } = await open(tokens[0]);
  const rtts = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    await new Promise((resolve) => { socket.once("message", resolve); socket.send(extra); });
    rtts.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  socket.close(1000);
  return { p50: pct(rtts, 50), p99: pct(rtts, 99), messages: rtts.length };
}

async function hold() {
  const sockets = [];
  let errors = 0;
  for (let start = 0; start < count; start += 200) {
    const batch = Array.from({ length: Math.min(200, count - start) }, (_, i) => open(tokens[(start + i) % tokens.length])
      .then(({ socket }) => sockets.push(socket), () => { errors += 1; }));
    await Promise.all(batch);
  }
  let closed = 0;
  for (const socket of sockets) socket.on("close", () => { closed += 1; });
  console.log(JSON.stringify({ held: sockets.length, errors }));
  await new Promise((resolve) => process.stdin.on("end", resolve).resume());
  return { held: sockets.length - closed, errors, dropped_while_held: closed };
}

// One player: connect with the token, follow `redirect` + 4004 to the room's process, resolve at game_start.
function playOne(first, token) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let redirects = 0;
    const connect = (address) => {
      let next = null;
      const socket = new WebSocket(`${address}?token=${token}`, { perMessageDeflate: false });
      socket.on("message", (data) => {
        const event = JSON.parse(data);
        if (event.event === "redirect") next = event.url;
        if (event.event === "game_start") {
          socket.removeAllListeners("close");
          resolve({ socket, redirects, ms: Number(process.hrtime.bigint() - started) / 1e6 });
        }
      });
      socket.once("error", reject);
      socket.once("close", (code) => {
        if (code === 4004 && next) { redirects += 1; connect(next); } else reject(new Error(`closed ${code}`));
      });
    };
    connect(first);
  });
}

async function play() {
  const urls = url.split(",");
  const started = process.hrtime.bigint();
  const results = [];
  let errors = 0;
  await Promise.all(Array.from({ length: count }, (_, i) => playOne(urls[i % urls.length], tokens[i % tokens.length])
    .then((result) => results.push(result), () => { errors += 1; })));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const ms = results.map((r) => r.ms);
  console.log(JSON.stringify({ started: results.length, errors, seconds, rate: results.length / seconds,
    p50: pct(ms, 50), p99: pct(ms, 99), redirected: results.filter((r) => r.redirects > 0).length }));
  await new Promise((resolve) => process.stdin.on("end", resolve).resume());
  for (const { socket } of results) socket.terminate();
  return { done: true };
}

const result = await { handshake, echo, hold, play }[mode]();
console.log(JSON.stringify(result));
process.exit(0);
