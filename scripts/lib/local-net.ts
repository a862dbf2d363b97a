// The network of a local run (docs/apps-run.md): a bridge in the root namespace, one network namespace per pod on a
// veth to it, Service addresses on the bridge served by a userspace proxy (kube-proxy's userspace mode) that
// forwards to the ready endpoints, and the names the stack uses in each pod's /etc/hosts (`ip netns exec`
// bind-mounts /etc/netns/<ns>/hosts, as the kubelet mounts a pod's). Needs root and iproute2; no iptables.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

const RUN_DIR = "/run/egov-apprun";
const SLOTS = 16;

const ip = (...args: string[]): string => execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const quietly = (f: () => unknown): void => {
    try { f(); } catch { /* already gone */ }
};

const alive = (pid: number): boolean => {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
};

/** What a slot owns, by name: removable by the owner's close() or, when the owner died, by the next taker. */
function slotNames(slot: number) {
    return { bridge: `egovbr${slot}`, nsPrefix: `eg${slot}-`, vethPrefix: `ev${slot}x`, podNet: `10.88.${slot}`, svcNet: `10.89.${slot}` };
}

/** The slot's veths still in the root namespace (`ip -o link` names them `ev0x2@if4`). */
function slotVeths(slot: number): string[] {
    const { vethPrefix } = slotNames(slot);
    return ip("-o", "link", "show").split("\n")
        .map((l) => (l.split(": ")[1] ?? "").split("@")[0])
        .filter((name) => name.startsWith(vethPrefix));
}

/**
 * Removes every namespace, /etc/netns entry, veth and the bridge of a slot. The veths go by name too: a
 * namespace whose name is deleted lives on while a process is still in it, and so does its veth pair, which
 * the slot's next run would otherwise collide with ("RTNETLINK answers: File exists").
 */
function sweep(slot: number): void {
    const n = slotNames(slot);
    const names = ip("netns", "list").split("\n").map((l) => l.split(" ")[0]).filter((x) => x.startsWith(n.nsPrefix));
    for (const ns of names) {
        quietly(() => ip("netns", "del", ns));
        fs.rmSync(path.join("/etc/netns", ns), { recursive: true, force: true });
    }
    for (const veth of slotVeths(slot)) quietly(() => ip("link", "del", veth));
    quietly(() => ip("link", "del", n.bridge));
}

/** Lets go of /etc/netns when no namespace uses it any more (it did not exist before the first run). */
function tidyEtcNetns(): void {
    quietly(() => fs.rmdirSync("/etc/netns"));
}

export interface Endpoint { readonly ip: string; readonly port: number }

export interface ServicePort { readonly port: number; readonly name?: string }

/** A Service of the run: its address, ports, and a function naming its ready endpoints for a port at connect time. */
export interface LocalService {
    readonly name: string;
    readonly namespace: string;
    /** undefined for a headless Service: its names resolve to the pods themselves. */
    readonly ip?: string;
    readonly ports: readonly ServicePort[];
}

export class LocalNetwork {
    private nextPod = 2;
    private nextSvc = 1;
    private nextVeth = 0;
    private readonly servers: net.Server[] = [];
    private readonly sockets = new Set<net.Socket>();
    private readonly namespaces = new Map<string, string>();
    private readonly hostsFiles = new Map<string, () => string>();
    private closed = false;

    private constructor(readonly slot: number, private readonly lock: string) {}

    /** Takes the first free slot (a stale one, whose owner died, is swept first) and makes its bridge. */
    static open(): LocalNetwork {
        if (process.getuid?.() !== 0) throw new Error("a local run needs root: network namespaces, veths and bind mounts");
        fs.mkdirSync(RUN_DIR, { recursive: true });
        for (let slot = 0; slot < SLOTS; slot++) {
            const lock = path.join(RUN_DIR, `slot-${slot}.pid`);
            try {
                fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
            } catch {
                const owner = Number(fs.readFileSync(lock, "utf8"));
                if (alive(owner)) continue;
                sweep(slot);
                fs.rmSync(lock, { force: true });
                try { fs.writeFileSync(lock, String(process.pid), { flag: "wx" }); } catch { continue; }
            }
            const n = new LocalNetwork(slot, lock);
            sweep(slot);
            const { bridge, podNet } = slotNames(slot);
            ip("link", "add", bridge, "type", "bridge");
            ip("addr", "add", `${podNet}.1/24`, "dev", bridge);
            ip("link", "set", bridge, "up");
            return n;
        }
        throw new Error(`no free local-run slot (${RUN_DIR}/slot-*.pid all held by live processes)`);
    }

    /** Whether any other slot is held by a live process (shared host paths stay while one is). */
    static othersAlive(self: number): boolean {
        for (let slot = 0; slot < SLOTS; slot++) {
            if (slot === self) continue;
            const lock = path.join(RUN_DIR, `slot-${slot}.pid`);
            if (fs.existsSync(lock) && alive(Number(fs.readFileSync(lock, "utf8")))) return true;
        }
        return false;
    }

    get bridge(): string { return slotNames(this.slot).bridge; }
    get gateway(): string { return `${slotNames(this.slot).podNet}.1`; }

    /** A new Service address on the bridge (the root namespace answers it: the proxy listens there). */
    serviceIp(): string {
        if (this.nextSvc > 254) throw new Error("local run: out of Service addresses");
        const addr = `${slotNames(this.slot).svcNet}.${this.nextSvc++}`;
        ip("addr", "add", `${addr}/32`, "dev", this.bridge);
        return addr;
    }

    /**
     * A pod's network namespace: lo up, a veth to the bridge with the next address, default route through the
     * bridge; `hosts()` gives its /etc/hosts (called again by refreshHosts()).
     */
    addPod(pod: string, hosts: (podIp: string) => string): { ns: string; ip: string } {
        if (this.nextPod > 254) throw new Error("local run: out of pod addresses");
        const { nsPrefix, vethPrefix, podNet } = slotNames(this.slot);
        const ns = `${nsPrefix}${pod}`.slice(0, 60);
        const addr = `${podNet}.${this.nextPod++}`;
        const veth = `${vethPrefix}${this.nextVeth++}`;
        ip("netns", "add", ns);
        this.namespaces.set(ns, veth);
        ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
        ip("link", "set", veth, "master", this.bridge, "up");
        ip("-n", ns, "addr", "add", `${addr}/24`, "dev", "eth0");
        ip("-n", ns, "link", "set", "eth0", "up");
        ip("-n", ns, "link", "set", "lo", "up");
        ip("-n", ns, "route", "add", "default", "via", this.gateway);
        fs.mkdirSync(path.join("/etc/netns", ns), { recursive: true });
        this.hostsFiles.set(ns, () => hosts(addr));
        fs.writeFileSync(path.join("/etc/netns", ns, "hosts"), hosts(addr));
        return { ns, ip: addr };
    }

    /** Rewrites every pod's /etc/hosts in place (same inode: a running pod's bind mount sees the change). */
    refreshHosts(): void {
        for (const [ns, text] of this.hostsFiles) {
            const file = path.join("/etc/netns", ns, "hosts");
            if (fs.existsSync(file)) fs.writeFileSync(file, text());
        }
    }

    removePod(ns: string): void {
        const veth = this.namespaces.get(ns);
        if (veth) quietly(() => ip("link", "del", veth));
        quietly(() => ip("netns", "del", ns));
        fs.rmSync(path.join("/etc/netns", ns), { recursive: true, force: true });
        this.namespaces.delete(ns);
        this.hostsFiles.delete(ns);
    }

    /**
     * kube-proxy's userspace mode for one Service port: accepts on the Service address, picks a ready endpoint
     * (round robin) at connect time, and splices the two sockets; no ready endpoint closes the connection.
     */
    async proxy(serviceIp: string, port: number, endpoints: () => Endpoint[]): Promise<void> {
        let turn = 0;
        const server = net.createServer((client) => {
            this.sockets.add(client);
            client.once("close", () => this.sockets.delete(client));
            const ready = endpoints();
            if (ready.length === 0) {
                client.destroy();
                return;
            }
            const to = ready[turn++ % ready.length];
            const upstream = net.connect(to.port, to.ip);
            this.sockets.add(upstream);
            upstream.once("close", () => this.sockets.delete(upstream));
            client.pipe(upstream).pipe(client);
            const end = () => { client.destroy(); upstream.destroy(); };
            client.once("error", end);
            upstream.once("error", end);
            client.once("close", () => upstream.end());
            upstream.once("close", () => client.end());
        });
        this.servers.push(server);
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(port, serviceIp, () => resolve());
        });
    }

    /** Stops the proxies, deletes the namespaces, their /etc/netns entries, the bridge (with its addresses) and the slot. */
    close(): void {
        if (this.closed) return;
        this.closed = true;
        for (const s of this.servers) s.close();
        for (const s of this.sockets) s.destroy();
        for (const ns of [...this.namespaces.keys()]) this.removePod(ns);
        sweep(this.slot);
        tidyEtcNetns();
        fs.rmSync(this.lock, { force: true });
    }
}

/** Every name a Service answers to in the cluster: svc, svc.ns, svc.ns.svc, svc.ns.svc.cluster.local. */
export function serviceNames(name: string, namespace: string): string[] {
    return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}
