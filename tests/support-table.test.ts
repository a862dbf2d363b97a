// The support table (config/support.ts): a row for every third-party image of the catalog, each default in a
// series it lists, README.md and docs/support.md as npm run docs:config writes them, and no default past its end
// of support unless the committed stacks waive it.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { loadConfig } from "../config";
import { defaultImages, ImageKey } from "../config/catalog";
import { imageSupport, lastDay, seriesOfTag, SUPPORT, SUPPORT_REVIEWED } from "../config/support";
import { renderSupportDoc, SUPPORT_DOC, withSupportSummary } from "../scripts/lib/support-docs";
import { ROOT, sourceOf, stackConfig } from "./support/harness";

describe("the support table", () => {
    it("has one row per image key of defaultImages, each default in a series it lists", () => {
        assert.deepStrictEqual(Object.keys(SUPPORT).sort(), Object.keys(defaultImages).sort());
        for (const k of Object.keys(defaultImages) as ImageKey[]) {
            const tag = defaultImages[k].split(":").pop()!;
            assert.ok(seriesOfTag(SUPPORT[k], tag), `${k}: ${defaultImages[k]} is in no listed series`);
            assert.match(SUPPORT[k].source, /^https:\/\//, k);
            assert.ok(SUPPORT[k].licence.length > 0 && SUPPORT[k].policy.length > 0, k);
            for (const s of SUPPORT[k].series) if (s.ends) assert.match(lastDay(s.ends), /^\d{4}-\d{2}-\d{2}$/, `${k} ${s.series}`);
        }
    });

    it("README.md and docs/support.md are what npm run docs:config writes from it", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        assert.strictEqual(withSupportSummary(readme), readme, "README.md's support table is stale: npm run docs:config");
        assert.strictEqual(fs.readFileSync(path.join(ROOT, SUPPORT_DOC), "utf8"), renderSupportDoc(), `${SUPPORT_DOC} is stale: npm run docs:config`);
        assert.match(readme, /\| `rabbitmq` \| `rabbitmq:4\.3\.6-management` \| none published \| MPL-2\.0 \|/);
    });

    it("a default past its end of support on the review date is waived, with a reason and a date, in every committed stack", () => {
        const ended = (Object.keys(defaultImages) as ImageKey[]).filter((k) => imageSupport(defaultImages[k], SUPPORT_REVIEWED).status === "ended");
        assert.ok(!ended.includes("rabbitmq") && !ended.includes("mysql"), ended.join());
        for (const stack of ["dev", "prod"] as const) {
            const cfg = loadConfig(sourceOf(stackConfig(stack)), stack);
            for (const k of ended) {
                const w = cfg.supportWaivers[k];
                assert.ok(w && w.reason.length > 0 && w.until >= SUPPORT_REVIEWED, `${stack}: ${k} (${defaultImages[k]}) is past its end of support and not waived`);
            }
        }
    });

    it("refuses a waiver without a reason or date, or for a key that is no image", () => {
        const problems = (waivers: unknown) => {
            try {
                loadConfig(sourceOf(stackConfig("dev", { supportWaivers: waivers as Record<string, unknown> })), "dev");
                return "";
            } catch (e) {
                return (e as Error).message;
            }
        };
        assert.strictEqual(problems({ jenkins: { reason: "moving", until: "2027-01-31" } }), "");
        // Unquoted in YAML the Pulumi CLI passes a timestamp: the same day.
        assert.strictEqual(problems({ jenkins: { reason: "moving", until: "2027-01-31 00:00:00 +0000 UTC" } }), "");
        assert.match(problems({ jenkins: { until: "2027-01-31" } }), /supportWaivers\.jenkins\.reason/);
        assert.match(problems({ jenkins: { reason: "moving", until: "soon" } }), /supportWaivers\.jenkins\.until.*a date YYYY-MM-DD/);
        assert.match(problems({ jenkinz: { reason: "moving", until: "2027-01-31" } }), /supportWaivers.*jenkinz/);
    });
});
