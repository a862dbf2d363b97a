// Writes docs/wiring.md ("How the services are configured") from config/wiring.ts (npm run docs:wiring).
import * as fs from "fs";
import * as path from "path";
import { renderWiringSection, withSection } from "./lib/wiring-docs";

const readme = path.resolve(__dirname, "..", "docs", "wiring.md");
fs.writeFileSync(readme, withSection(fs.readFileSync(readme, "utf8"), renderWiringSection()));
console.log(`wrote the wiring section of ${readme}`);
