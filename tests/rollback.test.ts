// Which update `npm run rollback` goes back to (scripts/rollback.ts); the e2e (tests/e2e/operating.e2e.ts) applies one.
import * as assert from "assert";
import { chooseTarget, numbered, Update } from "../scripts/rollback";

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
});
