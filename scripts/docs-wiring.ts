// Writes README's "How the services are configured" section from config/wiring.ts (npm run docs:wiring).
import * as fs from "fs";
import * as path from "path";
import { renderWiringSection, withSection } from "../config/wiring-docs";

const readme = path.resolve(__dirname, "..", "README.md");
fs.writeFileSync(readme, withSection(fs.readFileSync(readme, "utf8"), renderWiringSection()));
console.log(`wrote the wiring section of ${readme}`);
