// The policy pack over the objects the program renders (under mocks), with the settings the pack reads
// from the stack config: what a real preview would report.
import * as assert from "assert";
import { loadConfig } from "../config";
import { sideNamespaces } from "../config/parts";
import { allPolicies, PolicyResource, ResourceValidationArgs, StackValidationArgs } from "../policy/rules";
import { deploy, sourceOf, stackConfig } from "./support/harness";

/** Every violation the pack reports on the stack the program renders from this config. */
async function violations(stack: "dev" | "prod", raw: Record<string, string>): Promise<string[]> {
    const cfg = loadConfig(sourceOf(raw), stack);
    const networkPolicy = (cfg as { networkPolicy?: { enabled?: boolean } }).networkPolicy?.enabled !== false;
    const settings = { environment: cfg.environment, serviceType: cfg.serviceType, networkPolicy, sideNamespaces: sideNamespaces(cfg), supportWaivers: cfg.supportWaivers };
    const d = await deploy(raw, stack);
    const resources = d.all.map((r) => ({ type: r.type, props: r.obj, urn: `urn:pulumi:${stack}::egov-platform::${r.type}::${r.name}`, name: r.name, opts: {} })) as unknown as PolicyResource[];
    const out: string[] = [];
    for (const p of allPolicies(settings)) {
        const report = (m: string) => out.push(`${p.name}: ${m}`);
        if ("validateResource" in p && p.validateResource) {
            const vs = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
            for (const r of resources) for (const v of vs) void v(r as unknown as ResourceValidationArgs, report);
        }
        if ("validateStack" in p && p.validateStack) void p.validateStack({ resources } as unknown as StackValidationArgs, report);
    }
    return out;
}

describe("policy pack on the rendered stacks", function () {
    this.timeout(5 * 60 * 1000); // two renders of the whole program under mocks
    for (const stack of ["dev", "prod"] as const) {
        it(`the committed ${stack} stack passes every rule`, async () => {
            assert.deepStrictEqual(await violations(stack, stackConfig(stack)), []);
        });
    }

    it("an untagged image in prod, accepted by the stack config, is refused by the pack", async () => {
        const rule = (v: string[]) => v.filter((m) => m.startsWith("no-latest-image-in-prod:"));
        assert.deepStrictEqual(rule(await violations("prod", stackConfig("prod"))), []);
        const v = rule(await violations("prod", stackConfig("prod", { images: { mysql: "mysql" } })));
        // The image resolver spells the untagged reference out (docker.io/library/mysql:latest); the backup job runs it too.
        const latest = "runs docker.io/library/mysql:latest, tag latest, in prod; use a fixed release tag";
        // The backup job and the restore drill run it too.
        assert.deepStrictEqual([...v].sort(), [
            ...["init-mysql", "mysql"].map((c) => `no-latest-image-in-prod: StatefulSet egov/mysql-statefulset: container ${c} ${latest}`),
            `no-latest-image-in-prod: CronJob egov/mysql-backup: container backup ${latest}`,
            `no-latest-image-in-prod: CronJob egov/mysql-restore-drill: container drill ${latest}`,
            // The schema migration Job runs the server's client.
            ...v.filter((m) => /^no-latest-image-in-prod: Job egov\/mysql-migrate-[0-9a-f]{10}: container migrate /.test(m) && m.endsWith(latest)),
        ].sort());
        assert.strictEqual(v.filter((m) => m.includes("Job egov/mysql-migrate-")).length, 1, "the migration Job runs the mysql image");
    });

    it("MySQL 5.7 pinned in prod (images.mysql) is refused on every object that runs it; a pinned 8.4 patch passes", async () => {
        const rule = (v: string[]) => v.filter((m) => m.startsWith("supported-mysql:"));
        assert.deepStrictEqual(rule(await violations("prod", stackConfig("prod", { images: { mysql: "mysql:8.4.3" } }))), []);
        const v = rule(await violations("prod", stackConfig("prod", { images: { mysql: "mysql:5.7" } })));
        const objects = [...new Set(v.map((m) => /^supported-mysql: (\S+ \S+?):/.exec(m)?.[1]))].map((o) => o?.replace(/-[0-9a-f]{10}$/, "-<hash>")).sort();
        assert.deepStrictEqual(objects, ["CronJob egov/mysql-backup", "CronJob egov/mysql-restore-drill", "Job egov/mysql-migrate-<hash>", "StatefulSet egov/mysql-statefulset"]);
        assert.ok(v.every((m) => m.includes("docker.io/library/mysql:5.7: MySQL 5.7 is out of support")), v.join("\n"));
    });
});
