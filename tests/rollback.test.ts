// Which update `npm run rollback` goes back to (scripts/rollback.ts); the e2e (tests/e2e/operating.e2e.ts) applies one.
import * as assert from "assert";
import { chooseTarget, numbered, restoredConfig, Update } from "../scripts/rollback";

const cfg = (tag: string) => ({ "egov-platform:image": { value: JSON.stringify({ tag }), objectValue: { tag }, secret: false }, "other:key": { value: tag, secret: false } });
const u = (version: number, tag: string, result = "succeeded", kind = "update"): Update =>
    ({ version, kind, result, startTime: `t${version}`, config: cfg(tag) });

describe("npm run rollback: the update it goes back to", () => {
    const history = [u(5, "4.3.2", "failed"), u(4, "4.3.1"), u(3, "4.3.1", "succeeded", "refresh"), u(2, "4.3.0"), u(1, "4.2.0")];

    it("by default, the newest successful update whose config differs from the current one", () => {
        // After a failed upgrade (current config = the failed one's): the last good update.
        assert.strictEqual(chooseTarget(history, cfg("4.3.2")).version, 4);
        // After a successful but bad upgrade (current = the newest success): the one before it.
        assert.strictEqual(chooseTarget(history, cfg("4.3.1")).version, 2);
    });

    it("--to N: that update, only if it was a successful update", () => {
        assert.strictEqual(chooseTarget(history, cfg("4.3.1"), 1).version, 1);
        assert.throws(() => chooseTarget(history, cfg("4.3.1"), 5), /update 5 is not a successful update of this stack; successful updates: 4 \(t4\), 2 \(t2\), 1 \(t1\)/);
        assert.throws(() => chooseTarget(history, cfg("4.3.1"), 3), /update 3 is not a successful update/);
    });

    it("numbers the updates of a DIY backend (which records version 0) from the oldest, as the CLI lists them newest first", () => {
        const diy = [u(0, "b"), u(0, "b", "failed"), u(0, "a")];
        assert.deepStrictEqual(numbered(diy).map((x) => x.version), [3, 2, 1]);
        assert.strictEqual(chooseTarget(diy, cfg("b")).version, 1);
        assert.strictEqual(chooseTarget(diy, cfg("b"), 3).version, 3);
    });

    it("refuses when no earlier update differs (only the program's own keys count)", () => {
        assert.throws(() => chooseTarget([u(1, "4.2.0")], cfg("4.2.0")), /no earlier successful update has a configuration other than the current one/);
        assert.throws(() => chooseTarget([], cfg("4.2.0")), /successful updates: none/);
    });

    describe("credential generations (rotation) go forward only: carried, never restored", () => {
        const rot = (mysql: number) => ({ "egov-platform:rotation": { value: JSON.stringify({ mysql }), objectValue: { mysql }, secret: false } });
        const at = (version: number, tag: string, mysql?: number): Update =>
            ({ ...u(version, tag), config: { ...cfg(tag), ...(mysql === undefined ? {} : rot(mysql)) } });
        // Update 1: 4.2.0, never rotated; 2: 4.3.0; 3: mysql rotated (generation 1); now 4.3.0 at generation 2.
        const history = [at(3, "4.3.0", 1), at(2, "4.3.0"), at(1, "4.2.0")];
        const now = { ...cfg("4.3.0"), ...rot(2) };

        it("a rollback across rotations restores the other keys and keeps the current generations", () => {
            const target = chooseTarget(history, now);
            assert.strictEqual(target.version, 1, "updates that differ only in rotation are skipped");
            assert.deepStrictEqual(restoredConfig(target, now), { "egov-platform:image": cfg("4.2.0")["egov-platform:image"], ...rot(2) });
            // --to an update of an earlier generation: its image, today's generation.
            assert.deepStrictEqual(restoredConfig(chooseTarget(history, now, 3), now)["egov-platform:rotation"], rot(2)["egov-platform:rotation"]);
        });

        it("never lowers a generation nor drops it (which would be generation 0: a password no server has)", () => {
            for (const target of history) {
                const restored = restoredConfig(target, now);
                assert.deepStrictEqual(restored["egov-platform:rotation"], now["egov-platform:rotation"], `update ${target.version}`);
            }
            // With no generation now, none is introduced either.
            assert.strictEqual(restoredConfig(at(3, "4.3.0", 1), cfg("4.3.1"))["egov-platform:rotation"], undefined);
        });

        it("refuses when only the generations differ: a rotation is nothing to roll back", () => {
            assert.throws(() => chooseTarget([at(2, "4.3.0", 1), at(1, "4.3.0")], { ...cfg("4.3.0"), ...rot(1) }),
                /no earlier successful update has a configuration other than the current one/);
        });
    });
});
