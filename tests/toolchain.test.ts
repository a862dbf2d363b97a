import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./support/harness";

function versionsEnv(): Record<string, string> {
    const text = fs.readFileSync(path.join(ROOT, "toolchain/versions.env"), "utf8");
    return Object.fromEntries(text.split("\n").map((l) => l.trim()).filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

function installed(pkg: string): string {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
}

const parts = (v: string) => v.replace(/^v/, "").split(".").map(Number);
const atLeast = (v: string, min: string) => {
    const [a, b] = [parts(v), parts(min)];
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
    return true;
};

describe("pinned toolchain", () => {
    const pins = versionsEnv();
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };

    for (const [npmName, pin] of [["@pulumi/kubernetes", "PULUMI_KUBERNETES_VERSION"], ["@pulumi/random", "PULUMI_RANDOM_VERSION"]]) {
        it(`the ${npmName} plugin version equals the npm package version`, () => {
            assert.strictEqual(pkg.dependencies[npmName], pins[pin], "package.json pins an exact version equal to versions.env");
            assert.strictEqual(installed(npmName), pins[pin], "the installed package is that version");
        });
    }

    it("the Pulumi CLI is at least the @pulumi/pulumi SDK in use", () => {
        assert.ok(atLeast(pins.PULUMI_VERSION, installed("@pulumi/pulumi")), `${pins.PULUMI_VERSION} < ${installed("@pulumi/pulumi")}`);
    });

    it("the Pulumi program runs on Node.js >= 22", () => {
        assert.ok(atLeast(installed("node"), "22.0.0"));
    });
});
