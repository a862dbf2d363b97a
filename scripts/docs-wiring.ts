// Writes docs/wiring.md ("How the services are configured") from config/wiring.ts (npm run docs:wiring).
import * as fs from "fs";
import * as path from "path";
import { renderWiringSection, withSection } from "./lib/wiring-docs";

const USAGE = `usage: npm run docs:wiring
Rewrites the generated section of docs/wiring.md ("How the services are configured") from config/wiring.ts.
Needs Node.js and npm only. Takes no option but -h, --help (this text).`;
const args = process.argv.slice(2);
if (args.includes("-h") || args.includes("--help")) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
}
if (args.length > 0) {
    process.stderr.write(`unknown argument ${args[0]}\n(npm run docs:wiring -- --help shows the usage)\n`);
    process.exit(2);
}

const readme = path.resolve(__dirname, "..", "docs", "wiring.md");
fs.writeFileSync(readme, withSection(fs.readFileSync(readme, "utf8"), renderWiringSection()));
console.log(`wrote the wiring section of ${readme}`);
