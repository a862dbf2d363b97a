// An ingress controller for the platform running on this machine: Debian's nginx (ingress-nginx is nginx)
// configured from the rendered Ingress objects — their hosts, paths (Prefix, Exact), Service backends, the
// proxy-body-size annotation and TLS — with ingress-nginx's defaults where an Ingress says nothing (1m body
// limit, no response buffering so server-sent events flow, HTTP/1.1 upstream, X-Forwarded-* headers).
// A browser reaches the hosts through Chromium's --host-resolver-rules (tests/support/browser.ts).
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { Obj } from "./harness";

/** ingress-nginx's body limit when an Ingress has no proxy-body-size annotation. */
export const DEFAULT_BODY_SIZE = "1m";
export const BODY_SIZE_ANNOTATION = "nginx.ingress.kubernetes.io/proxy-body-size";

export interface IngressRoute {
    readonly ingress: string;
    readonly host: string;
    readonly path: string;
    readonly pathType: "Prefix" | "Exact" | "ImplementationSpecific";
    readonly service: string;
    readonly port: number;
    readonly bodySize: string;
    /** The Secret of the host's TLS certificate, when the Ingress has a tls entry for it. */
    readonly tlsSecret?: string;
}

/** Every host/path of the Ingress objects, each with its backend and limits; unsupported forms fail naming the Ingress. */
export function ingressRoutes(ingresses: readonly Obj[]): IngressRoute[] {
    const out: IngressRoute[] = [];
    for (const ing of ingresses) {
        const name = String(ing.metadata.name);
        if (ing.spec?.ingressClassName !== "nginx") throw new Error(`Ingress ${name}: class ${ing.spec?.ingressClassName}, not nginx`);
        const bodySize = String(ing.metadata.annotations?.[BODY_SIZE_ANNOTATION] ?? DEFAULT_BODY_SIZE);
        if (!/^\d+[kmg]?$/i.test(bodySize)) throw new Error(`Ingress ${name}: ${BODY_SIZE_ANNOTATION} ${bodySize} is not an nginx size`);
        for (const rule of (ing.spec.rules ?? []) as Obj[]) {
            if (!rule.host) throw new Error(`Ingress ${name}: a rule without a host`);
            const tls = ((ing.spec.tls ?? []) as Obj[]).find((t) => (t.hosts ?? []).includes(rule.host));
            for (const p of (rule.http?.paths ?? []) as Obj[]) {
                const svc = p.backend?.service;
                if (!svc?.port?.number) throw new Error(`Ingress ${name} ${rule.host}${p.path}: backend ${JSON.stringify(p.backend)} is not a Service port number`);
                out.push({ ingress: name, host: rule.host, path: p.path ?? "/", pathType: p.pathType, service: svc.name, port: svc.port.number, bodySize,
                    ...(tls ? { tlsSecret: String(tls.secretName) } : {}) });
            }
        }
    }
    return out;
}

export interface IngressOptions {
    /** The rendered Ingress objects. */
    readonly ingresses: readonly Obj[];
    /** Where a Service port answers from this machine (host:port). */
    readonly backend: (service: string, port: number) => string;
    /** PEM certificate and key of a TLS Secret (the rendered Secret's data), when an Ingress has tls. */
    readonly tls?: (secret: string) => { cert: string; key: string };
    /** A directory of its own: config, logs, temp files. */
    readonly dir: string;
    /** The address to listen on, ports 80 and 443 (a loopback address of its own). */
    readonly address: string;
}

/** nginx.conf for the routes: one server per host, one location per path (longest prefix wins, as ingress-nginx orders them). */
export function nginxConfig(routes: readonly IngressRoute[], o: Omit<IngressOptions, "ingresses">): string {
    const hosts = [...new Set(routes.map((r) => r.host))].sort();
    const servers = hosts.map((host) => {
        const mine = routes.filter((r) => r.host === host).sort((a, b) => b.path.length - a.path.length);
        const tlsSecrets = [...new Set(mine.map((r) => r.tlsSecret).filter((s): s is string => !!s))];
        const listen = [`listen ${o.address}:80;`];
        if (tlsSecrets.length > 0) {
            if (!o.tls) throw new Error(`host ${host}: TLS from Secret ${tlsSecrets[0]}, and no certificate given`);
            const { cert, key } = o.tls(tlsSecrets[0]);
            const base = path.join(o.dir, `tls-${tlsSecrets[0]}`);
            fs.writeFileSync(`${base}.crt`, cert);
            fs.writeFileSync(`${base}.key`, key, { mode: 0o600 });
            listen.push(`listen ${o.address}:443 ssl;`, `ssl_certificate ${base}.crt;`, `ssl_certificate_key ${base}.key;`);
        }
        const locations = mine.map((r) => {
            const match = r.pathType === "Exact" ? `= ${r.path}` : r.path;
            return [`    location ${match} {`,
                `      client_max_body_size ${r.bodySize};`,
                `      proxy_pass http://${o.backend(r.service, r.port)};`,
                "    }"].join("\n");
        });
        return [`  server {`, ...listen.map((l) => `    ${l}`), `    server_name ${host};`, ...locations, "  }"].join("\n");
    });
    const tmp = (n: string) => path.join(o.dir, "tmp", n);
    return [
        // As root the workers would be nobody, who cannot write the run's (private) temp directory.
        ...(process.getuid?.() === 0 ? ["user root root;"] : []),
        "worker_processes 1;",
        `pid ${path.join(o.dir, "nginx.pid")};`,
        `error_log ${path.join(o.dir, "error.log")} info;`,
        "events { worker_connections 512; }",
        "http {",
        `  access_log ${path.join(o.dir, "access.log")};`,
        `  client_body_temp_path ${tmp("body")};`, `  proxy_temp_path ${tmp("proxy")};`,
        `  fastcgi_temp_path ${tmp("fastcgi")};`, `  uwsgi_temp_path ${tmp("uwsgi")};`, `  scgi_temp_path ${tmp("scgi")};`,
        // ingress-nginx's defaults (its ConfigMap's proxy-buffering off, proxy-http-version 1.1, timeouts 60 s).
        "  proxy_http_version 1.1;", "  proxy_buffering off;", "  proxy_request_buffering on;",
        "  proxy_read_timeout 60s;", "  proxy_send_timeout 60s;", "  proxy_connect_timeout 5s;",
        "  proxy_set_header Host $host;", "  proxy_set_header X-Real-IP $remote_addr;",
        "  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", "  proxy_set_header X-Forwarded-Host $host;",
        "  proxy_set_header X-Forwarded-Proto $scheme;", "  proxy_set_header Connection \"\";",
        // A host no Ingress names: ingress-nginx's default backend answers 404.
        `  server { listen ${o.address}:80 default_server; return 404; }`,
        ...servers,
        "}",
        "",
    ].join("\n");
}

export interface Ingress {
    readonly routes: readonly IngressRoute[];
    readonly address: string;
    readonly configFile: string;
    /** Chromium's --host-resolver-rules: every host to the ingress's address. */
    readonly hostResolverRules: string;
    close(): Promise<void>;
}

/** Starts Debian's nginx with the config of the Ingress objects; resolves once it accepts connections. */
export async function startIngress(o: IngressOptions): Promise<Ingress> {
    const routes = ingressRoutes(o.ingresses);
    fs.mkdirSync(path.join(o.dir, "tmp"), { recursive: true });
    const configFile = path.join(o.dir, "nginx.conf");
    fs.writeFileSync(configFile, nginxConfig(routes, o));
    const nginx = fs.existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
    // Checked first: a config error names its line.
    try {
        execFileSync(nginx, ["-t", "-q", "-c", configFile, "-p", o.dir, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
    } catch (e) {
        throw new Error(`nginx refused ${configFile}: ${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`);
    }
    const child: ChildProcess = spawn(nginx, ["-c", configFile, "-p", o.dir, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => { stderr += d; });
    // Never left behind by a run that dies.
    const onExit = () => { if (child.exitCode === null) child.kill("SIGKILL"); };
    process.once("exit", onExit);
    child.once("exit", () => process.removeListener("exit", onExit));
    const deadline = Date.now() + 15_000;
    for (;;) {
        if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${stderr}`);
        const up = await new Promise<boolean>((resolve) => {
            const s = net.connect(80, o.address, () => { s.destroy(); resolve(true); });
            s.on("error", () => resolve(false));
        });
        if (up) break;
        if (Date.now() > deadline) throw new Error(`nginx did not listen on ${o.address}:80: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
    }
    const hosts = [...new Set(routes.map((r) => r.host))];
    return {
        routes, address: o.address, configFile,
        hostResolverRules: hosts.map((h) => `MAP ${h} ${o.address}`).join(", "),
        close: async () => {
            if (child.exitCode !== null) return;
            const exited = new Promise((r) => child.once("exit", r));
            child.kill("SIGQUIT");
            await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
            if (child.exitCode === null) child.kill("SIGKILL");
        },
    };
}

/** A loopback address of its own for this run (all of 127/8 is the loopback on Linux), free on port 80. */
export async function freeLoopbackAddress(): Promise<string> {
    for (let i = 0; i < 50; i++) {
        const a = `127.${80 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
        const free = await new Promise<boolean>((resolve) => {
            const srv = net.createServer();
            srv.once("error", () => resolve(false));
            srv.listen(80, a, () => srv.close(() => resolve(true)));
        });
        if (free) return a;
    }
    throw new Error("no free loopback address for the ingress");
}
