// Runs inside a fresh network namespace (tests/e2e/frontends.e2e.ts starts it with unshare): a stand-in for the
// gateway on the loopback port the image was built for, the image's own command chrooted into its unpacked
// filesystem with the pod's environment, then HTTP requests to it. Prints the observations as one JSON line.
//   node frontend-proof.js '<json>'  {rootfs, workdir, cmd, env, gatewayPort, port, healthPath, timeoutMs, gateway, steps}
// gateway: {routes: {"METHOD /path[?query]": json body}, users: [{email, accessToken, refreshToken, userId}]}: the
// stand-in answers a route (the exact URL first, then the path alone), the user-service login (POST
// /user-service/login) and token refresh as user-service does (tokens in response headers), anything else 404.
// steps: [{id, session?, method?, path, body?, contentType?}] in order, one at a time, so every request the
// gateway sees belongs to the step in flight; a session keeps its cookies (a browser's cookie jar).
// healthPath is polled until the server answers; then the steps; then the stand-in stops and healthPath is asked
// once more (healthGatewayDown).
"use strict";
const http = require("http");
const { spawn } = require("child_process");

const o = JSON.parse(process.argv[2]);
const seen = [];
let step = null;
const LOGIN = "/user-service/login";
const REFRESH = "/user-service/api/v1/users/token/refresh";

/** The headers user-service's TokenProvider answers a login or refresh with. */
const tokenHeaders = (u) => ({ "access-token": u.accessToken, "refresh-token": u.refreshToken, "token-id": u.userId });

const gateway = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => { body += d; });
    req.on("end", () => {
        const h = req.headers;
        seen.push({ step, method: req.method, url: req.url, host: h.host, siteId: h["x-site-id"],
            authorization: h.authorization, tokenId: h["token-id"], cookie: h.cookie, body });
        const users = (o.gateway && o.gateway.users) || [];
        const routes = (o.gateway && o.gateway.routes) || {};
        const path = req.url.split("?")[0];
        const json = (status, value, headers = {}) => {
            res.writeHead(status, { "content-type": "application/json", ...headers });
            res.end(JSON.stringify(value));
        };
        if (req.method === "POST" && path === LOGIN) {
            let email;
            try { email = JSON.parse(body).email; } catch { /* not JSON: no user */ }
            const u = users.find((x) => x.email === email);
            return u ? json(200, {}, tokenHeaders(u)) : json(401, { message: "invalid credentials" });
        }
        if (req.method === "PUT" && path === REFRESH) {
            const u = users.find((x) => x.refreshToken === h.authorization);
            return u ? json(200, {}, tokenHeaders(u)) : json(401, { message: "invalid refresh token" });
        }
        const hit = routes[`${req.method} ${req.url}`] ?? routes[`${req.method} ${path}`];
        return hit === undefined ? json(404, { code: "E003", message: `no fixture for ${req.method} ${req.url}` }) : json(200, hit);
    });
});

function request(method, path, { cookie, body, contentType } = {}) {
    return new Promise((resolve) => {
        const headers = { accept: "text/html,application/json" };
        if (cookie) headers.cookie = cookie;
        if (body !== undefined) { headers["content-type"] = contentType || "text/plain;charset=UTF-8"; headers["content-length"] = Buffer.byteLength(body); }
        const t = Date.now();
        const req = http.request({ host: "127.0.0.1", port: o.port, path, method, headers }, (res) => {
            let text = "";
            res.on("data", (d) => { text += d; });
            res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: text, ms: Date.now() - t }));
        });
        req.on("error", (e) => resolve({ status: 0, error: e.message, ms: Date.now() - t }));
        req.setTimeout(30000, () => req.destroy(new Error("timeout")));
        req.end(body);
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
    const out = { log: "", health: null, steps: {}, healthGatewayDown: null, gatewaySaw: seen, readyAfterMs: null };
    const jars = {};
    const start = Date.now();
    try {
        while (Date.now() - start < o.timeoutMs) {
            if (exited !== null) break;
            const r = await request("GET", o.healthPath);
            if (r.status > 0) { out.readyAfterMs = Date.now() - start; out.health = r; break; }
            await new Promise((r) => setTimeout(r, 500));
        }
        if (out.readyAfterMs !== null) {
            for (const s of o.steps || []) {
                step = s.id;
                const jar = s.session ? (jars[s.session] = jars[s.session] || {}) : {};
                const cookie = Object.entries(jar).map(([k, v]) => `${k}=${v}`).join("; ");
                const r = await request(s.method || "GET", s.path, { cookie: cookie || undefined, body: s.body, contentType: s.contentType });
                for (const c of [].concat(r.headers ? r.headers["set-cookie"] || [] : [])) {
                    const [pair] = c.split(";");
                    const i = pair.indexOf("=");
                    jar[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
                }
                out.steps[s.id] = { ...r, sentCookie: cookie || null };
                step = null;
            }
            // Down: not listening, and the open keep-alive connections cut.
            await new Promise((r) => { gateway.close(r); gateway.closeAllConnections(); });
            out.healthGatewayDown = await request("GET", o.healthPath);
        }
    } finally {
        try { process.kill(-server.pid, "SIGTERM"); } catch { /* gone */ }
        if (gateway.listening) gateway.close();
        out.log = log.slice(-6000);
        out.exited = exited;
        for (const r of [out.health, out.healthGatewayDown, ...Object.values(out.steps)]) if (r && r.body) r.body = r.body.slice(0, 200000);
        process.stdout.write(`${JSON.stringify(out)}\n`);
    }
}

main().catch((e) => { process.stderr.write(`${e.stack}\n`); process.exit(1); });
