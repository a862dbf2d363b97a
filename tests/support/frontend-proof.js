// Runs inside a fresh network namespace (tests/e2e/frontends.e2e.ts starts it with unshare): a stand-in for the
// gateway on the loopback port the image was built for, the image's own command chrooted into its unpacked
// filesystem with the pod's environment, then HTTP requests to it. Prints the observations as one JSON line.
//   node frontend-proof.js '<json: {rootfs, workdir, cmd, env, gatewayPort, port, healthPath, pagePath, apiPath}>'
// healthPath (default /) is polled until the server answers; apiPath is optional; with healthWithGatewayDown the
// stand-in stops and healthPath is asked once more.
"use strict";
const http = require("http");
const { spawn } = require("child_process");

const o = JSON.parse(process.argv[2]);
const seen = [];
const gateway = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, host: req.headers.host, siteId: req.headers["x-site-id"] });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ standIn: true, url: req.url }));
});

function get(path) {
    return new Promise((resolve) => {
        const req = http.get({ host: "127.0.0.1", port: o.port, path, headers: { accept: "text/html,application/json" } }, (res) => {
            let body = "";
            res.on("data", (d) => { body += d; });
            res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
        });
        req.on("error", (e) => resolve({ status: 0, error: e.message }));
        req.setTimeout(30000, () => req.destroy(new Error("timeout")));
    });
}

async function main() {
    await new Promise((r) => gateway.listen(o.gatewayPort, "127.0.0.1", r));
    let log = "";
    // What a container runtime does: the image's filesystem as root, its working directory, its command, the env.
    const server = spawn("chroot", [o.rootfs, "/bin/sh", "-c", 'cd "$0" && exec "$@"', o.workdir, ...o.cmd],
        { env: o.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    server.stdout.on("data", (d) => { log += d; });
    server.stderr.on("data", (d) => { log += d; });
    let exited = null;
    server.on("exit", (code) => { exited = code; });
    const out = { log: "", page: null, api: null, health: null, healthGatewayDown: null, gatewaySaw: seen, readyAfterMs: null };
    const start = Date.now();
    try {
        while (Date.now() - start < o.timeoutMs) {
            if (exited !== null) break;
            const r = await get(o.healthPath || "/");
            if (r.status > 0) { out.readyAfterMs = Date.now() - start; out.health = r; break; }
            await new Promise((r) => setTimeout(r, 500));
        }
        if (out.readyAfterMs !== null) {
            out.page = await get(o.pagePath);
            if (o.apiPath) out.api = await get(`/server${o.apiPath}`);
            if (o.healthWithGatewayDown) {
                // Down: not listening, and the open keep-alive connections cut.
                await new Promise((r) => { gateway.close(r); gateway.closeAllConnections(); });
                const t = Date.now();
                out.healthGatewayDown = { ...(await get(o.healthPath)), ms: Date.now() - t };
            }
        }
    } finally {
        try { process.kill(-server.pid, "SIGTERM"); } catch { /* gone */ }
        if (gateway.listening) gateway.close();
        out.log = log.slice(-4000);
        out.exited = exited;
        for (const k of ["page", "api", "health", "healthGatewayDown"]) if (out[k] && out[k].body) out[k].body = out[k].body.slice(0, 20000);
        process.stdout.write(`${JSON.stringify(out)}\n`);
    }
}

main().catch((e) => { process.stderr.write(`${e.stack}\n`); process.exit(1); });
