// The policy pack under the real engine: a change only the pack catches stops the preview, and the
// failure names the resource and the rule. tests/support/e2e.sh provides the toolchain and a cluster.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { throwawayEnv } from "../../scripts/lib/pulumi-env";
import { KUBECONFIG } from "../support/kube";
import { previewAsDeploy } from "../support/preview";
import { stackConfig } from "../support/harness";
import { pinApplicationCheckout } from "../../scripts/lib/stack-config";

const ROOT = path.resolve(__dirname, "../..");
const POLICY_PACK = path.join(ROOT, "policy", "analyzer");

interface Violation { readonly pack: string; readonly policy: string; readonly urn: string; readonly message: string; readonly level: string }

/** The policy packs a run's summary lists (the field is PascalCase in the engine's JSON). */
function packsRun(e: EngineEvent): string[] {
    const s = e.summaryEvent as { policyPacks?: Record<string, string>; PolicyPacks?: Record<string, string> } | undefined;
    return Object.keys(s?.PolicyPacks ?? s?.policyPacks ?? {});
}

/** Previews with the pack; returns whether the run succeeded, the packs that ran, the pack's violations and the output. */
async function preview(stack: Stack): Promise<{ ok: boolean; packs: string[]; violations: Violation[]; output: string }> {
    const violations: Violation[] = [];
    const packs: string[] = [];
    let output = "";
    const onEvent = (e: EngineEvent) => {
        packs.push(...packsRun(e));
        const p = e.policyEvent;
        if (p) violations.push({ pack: p.policyPackName, policy: p.policyName, urn: p.resourceUrn ?? "", message: p.message, level: p.enforcementLevel });
    };
    try {
        await previewAsDeploy(stack, { policyPacks: [POLICY_PACK], color: "never", onEvent, onOutput: (s) => { output += s; } });
        return { ok: true, packs, violations, output };
    } catch (e) {
        return { ok: false, packs, violations, output: output + String(e) };
    }
}

describe("the policy pack on a real preview", function () {
    this.timeout(15 * 60 * 1000);
    let work: string;
    let prod: Stack;

    before(async function () {
        assert.ok(KUBECONFIG && fs.existsSync(KUBECONFIG), "EGOV_E2E_KUBECONFIG must name the local cluster's kubeconfig (run through tests/support/e2e.sh)");
        work = fs.mkdtempSync(path.join(os.tmpdir(), "egov-e2e-policy-"));
        const skip = new Set(["node_modules", ".git", "tests", "policy", "bin"]);
        fs.cpSync(ROOT, work, { recursive: true, filter: (src) => !skip.has(path.basename(src)) || path.dirname(src) !== ROOT });
        pinApplicationCheckout(work);
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(work, "node_modules"));
        const stateDir = path.join(work, ".state");
        fs.mkdirSync(stateDir);
        const envVars = throwawayEnv({ stateDir });
        prod = await LocalWorkspace.createOrSelectStack({ stackName: "prod", workDir: work }, { envVars });
        await prod.removeConfig("kubeContext");
        await prod.setConfig("kubeconfig", { value: KUBECONFIG });
        await prod.setConfig("ingress.waitForAddress", { value: "false" }, true);
        // prod requires digests and the committed images.lock.json is empty until an agency fills it from its mirror
        // (npm run images -- --lock): the harness's test pins stand in for that lock (kwok never pulls an image).
        const pins = JSON.parse(stackConfig("prod").imageDigests) as Record<string, string>;
        await prod.setAllConfig(Object.fromEntries(Object.entries(pins).map(([ref, digest]) => [`imageDigests[${JSON.stringify(ref)}]`, { value: digest }])), true);
    });

    after(() => { if (work) fs.rmSync(work, { recursive: true, force: true }); });

    it("stops a prod preview whose MySQL image is untagged, naming the StatefulSet and the rule", async () => {
        const before = await preview(prod);
        const counts: Record<string, number> = {};
        for (const v of before.violations) counts[v.policy] = (counts[v.policy] ?? 0) + 1;
        console.log("      pack violations on the committed prod stack:", JSON.stringify(counts));
        const ran = before.packs.some((p) => p.includes("egov-platform")) || before.violations.some((v) => v.pack === "egov-platform");
        assert.ok(ran, `the pack did not run (${before.packs}):\n${before.output.slice(-3000)}`);
        assert.deepStrictEqual(before.violations.filter((v) => v.policy === "no-latest-image-in-prod"), []);

        // Accepted by the stack config (images.* takes any reference); only the pack refuses it. By tag, as
        // tests/policy-stack.test.ts's prodByTag: with image.requireDigests the config itself refuses an unpinned image.
        await prod.setConfig("image.requireDigests", { value: "false" }, true);
        await prod.setConfig("images.mysql", { value: "mysql" }, true);
        const bad = await preview(prod);
        await prod.removeConfig("images.mysql", true);
        await prod.setConfig("image.requireDigests", { value: "true" }, true);
        assert.strictEqual(bad.ok, false, "the preview must fail");
        const hits = bad.violations.filter((v) => v.policy === "no-latest-image-in-prod");
        assert.ok(hits.length > 0, `violations: ${JSON.stringify(bad.violations.map((v) => v.policy))}\n${bad.output.slice(-4000)}`);
        // The MySQL image runs in the StatefulSet (and its init container), in the schema migration Job, in the backup
        // CronJob and in the restore drill's (prod copies backups off-site and drills them): one violation per
        // container, on those objects only.
        for (const h of hits) {
            assert.match(h.urn, /kubernetes:apps\/v1:StatefulSet::mysql$|kubernetes:batch\/v1:Job::mysql-migrate$|kubernetes:batch\/v1:CronJob::mysql-backup$|kubernetes:batch\/v1:CronJob::mysql-restore-drill$/);
            assert.strictEqual(h.level, "mandatory");
        }
        assert.ok(hits.some((h) => /StatefulSet::mysql$/.test(h.urn)) && hits.some((h) => /CronJob::mysql-backup$/.test(h.urn)),
            hits.map((h) => h.urn).join("\n"));
        assert.ok(hits.some((h) => /StatefulSet egov\/mysql-statefulset: container mysql runs docker\.io\/library\/mysql:latest, tag latest, in prod/.test(h.message)),
            hits.map((h) => h.message).join("\n"));
        assert.match(bad.output, /no-latest-image-in-prod/);
    });
});
