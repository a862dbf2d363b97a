// Writes what config/schema.ts generates (npm run docs:config): Pulumi.yaml's stack keys, README.md's settings table,
// schema/stack-config.schema.json.
import * as fs from "fs";
import * as path from "path";
import { JSON_SCHEMA_FILE, renderJsonSchema, withPulumiConfig, withSettingsTable } from "./lib/config-docs";
import { renderSupportDoc, SUPPORT_DOC, withSupportSummary } from "./lib/support-docs";

const USAGE = `usage: npm run docs:config
Rewrites, from the stack config schema (config/schema.ts): the stack keys of Pulumi.yaml, the settings table of
README.md ("Stack config"), the support table of README.md and ${SUPPORT_DOC} (config/support.ts) and ${JSON_SCHEMA_FILE} (the JSON Schema editors check Pulumi.<stack>.yaml files with).
Needs Node.js and npm only. Takes no option but -h, --help (this text).`;
const args = process.argv.slice(2);
if (args.includes("-h") || args.includes("--help")) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
}
if (args.length > 0) {
    process.stderr.write(`unknown argument ${args[0]}\n(npm run docs:config -- --help shows the usage)\n`);
    process.exit(2);
}

const root = path.resolve(__dirname, "..");
const write = (file: string, edit: (text: string) => string) => {
    const p = path.join(root, file);
    const before = fs.existsSync(p) ? fs.readFileSync(p, "utf8") : "";
    const after = edit(before);
    if (after !== before) fs.mkdirSync(path.dirname(p), { recursive: true });
    if (after !== before) fs.writeFileSync(p, after);
    console.log(`${after === before ? "unchanged" : "wrote"} ${file}`);
};
write("Pulumi.yaml", withPulumiConfig);
write("README.md", (t) => withSupportSummary(withSettingsTable(t)));
write(SUPPORT_DOC, renderSupportDoc);
write(JSON_SCHEMA_FILE, renderJsonSchema);
