// A minimal AMQP 0-9-1 client (connection handshake, PLAIN login, channel open, close): what a service's AMQP client
// does when it connects, so the rotation tests open real broker connections without a client library.
import * as net from "net";

interface Frame { type: number; channel: number; payload: Buffer }

/** A broker refusal: Connection.Close's reply code and text (403 ACCESS_REFUSED for a refused login). */
export class AmqpError extends Error {
    constructor(readonly code: number, text: string) { super(`${code} ${text}`); }
}

const shortstr = (s: string) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
const longstr = (b: Buffer) => { const n = Buffer.alloc(4); n.writeUInt32BE(b.length); return Buffer.concat([n, b]); };
const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
/** A field table with one nested table: client-properties' capabilities. */
const capabilities = () => {
    const inner = Buffer.concat([shortstr("authentication_failure_close"), Buffer.from("t"), Buffer.from([1])]);
    const entry = Buffer.concat([shortstr("capabilities"), Buffer.from("F"), longstr(inner)]);
    return longstr(entry);
};

export class AmqpConnection {
    private buf = Buffer.alloc(0);
    private frames: Frame[] = [];
    private waiting?: { resolve: (f: Frame) => void; reject: (e: Error) => void };
    private closed?: Error;
    private nextChannel = 1;

    private constructor(private readonly socket: net.Socket) {
        socket.on("data", (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.parse(); });
        const end = (e?: Error) => {
            this.closed = e ?? new Error("connection closed by the broker");
            this.waiting?.reject(this.closed);
            this.waiting = undefined;
        };
        socket.on("error", end);
        socket.on("close", () => end());
    }

    /** Connects and logs in to vhost `/`; rejects with AmqpError on a refusal (403: the login). */
    static async open(port: number, user: string, password: string, timeoutMs = 10_000): Promise<AmqpConnection> {
        const socket = net.connect(port, "127.0.0.1");
        socket.setTimeout(timeoutMs, () => socket.destroy(new Error("AMQP timeout")));
        await new Promise<void>((resolve, reject) => { socket.once("connect", resolve); socket.once("error", reject); });
        const c = new AmqpConnection(socket);
        try {
            socket.write(Buffer.from("AMQP\x00\x00\x09\x01", "binary"));
            await c.expect(10, 10); // Connection.Start
            c.method(0, 10, 11, Buffer.concat([capabilities(), shortstr("PLAIN"), longstr(Buffer.from(`\0${user}\0${password}`)), shortstr("en_US")]));
            // Tune: take the broker's channel maximum (0, "no limit", is refused), no heartbeats.
            const tune = await c.expect(10, 30);
            c.method(0, 10, 31, Buffer.concat([u16(tune.readUInt16BE(0)), u32(131072), u16(0)]));
            c.method(0, 10, 40, Buffer.concat([shortstr("/"), shortstr(""), Buffer.from([0])]));
            await c.expect(10, 41); // Open-Ok
            socket.setTimeout(0);
            return c;
        } catch (e) {
            socket.destroy();
            throw e;
        }
    }

    /** Opens a channel (what a publisher or consumer does on its connection). */
    async channel(): Promise<number> {
        const n = this.nextChannel++;
        this.method(n, 20, 10, shortstr(""));
        await this.expect(20, 11);
        return n;
    }

    async close(): Promise<void> {
        this.method(0, 10, 50, Buffer.concat([u16(200), shortstr("bye"), u16(0), u16(0)]));
        await this.expect(10, 51).catch(() => undefined);
        this.socket.destroy();
    }

    destroy(): void { this.socket.destroy(); }

    private method(channel: number, cls: number, m: number, args: Buffer): void {
        const payload = Buffer.concat([u16(cls), u16(m), args]);
        this.socket.write(Buffer.concat([Buffer.from([1]), u16(channel), u32(payload.length), payload, Buffer.from([0xce])]));
    }

    private parse(): void {
        while (this.buf.length >= 7) {
            const size = this.buf.readUInt32BE(3);
            if (this.buf.length < 8 + size) return;
            const f = { type: this.buf[0], channel: this.buf.readUInt16BE(1), payload: this.buf.subarray(7, 7 + size) };
            this.buf = this.buf.subarray(8 + size);
            if (f.type === 8) continue; // heartbeat
            if (this.waiting) { const w = this.waiting; this.waiting = undefined; w.resolve(f); } else this.frames.push(f);
        }
    }

    private next(): Promise<Frame> {
        const f = this.frames.shift();
        if (f) return Promise.resolve(f);
        if (this.closed) return Promise.reject(this.closed);
        return new Promise((resolve, reject) => { this.waiting = { resolve, reject }; });
    }

    /** The next method frame, which must be class.method; a Connection.Close or Channel.Close instead is the broker's refusal. */
    private async expect(cls: number, m: number): Promise<Buffer> {
        const f = await this.next();
        const [c, mm] = [f.payload.readUInt16BE(0), f.payload.readUInt16BE(2)];
        if (((c === 10 && mm === 50) || (c === 20 && mm === 40)) && !(cls === c && m === mm)) {
            const code = f.payload.readUInt16BE(4);
            const len = f.payload[6];
            throw new AmqpError(code, f.payload.subarray(7, 7 + len).toString());
        }
        if (c !== cls || mm !== m) throw new Error(`AMQP: expected ${cls}.${m}, got ${c}.${mm}`);
        return f.payload.subarray(4);
    }
}
