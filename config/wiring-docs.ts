// Renders README's "How the services are configured" from the wiring contract (npm run docs:wiring writes
// it; tests/wiring.test.ts fails when README and contract disagree).
import { loadConfig } from ".";
import { backendServices, frontends } from "./catalog";
import { frontendName, serviceGraph } from "./graph";
import {
    CONFIG_REPO_DIR, envSettings, LOG_PROFILE, servedOverrides, SERVER_SETTINGS_DIR, SERVER_SETTINGS_FILE, settingsFor, UPSTREAM,
    ValueSource, WiredWorkload, WiringContext,
} from "./wiring";

export const README_START = "<!-- i12: section body goes here -->";
export const README_END = "<!-- end i12 -->";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/\n/g, " ");
const code = (s: string) => `\`${s}\``;
const sourceText = (s: ValueSource) =>
    s.from === "configMap" ? `ConfigMap ${code(`${s.configMap}-configmap`)}` : s.from === "secret" ? `Secret ${code(`${s.secret}-secret`)} ${code(s.key)}` : "literal";

/** The contract evaluated for the built-in catalog with every part on, in namespace `egov`. */
export function defaultWiring(): { ctx: WiringContext; workloads: WiredWorkload[] } {
    const raw: Record<string, string> = { kubeContext: "docs", storage: JSON.stringify({ backend: "hostpath" }) };
    const cfg = loadConfig((k) => raw[k], "dev");
    const ctx: WiringContext = { cfg, graph: serviceGraph(cfg, backendServices), services: backendServices };
    const workloads = [...backendServices.map((spec) => ({ name: spec.name, spec })), ...frontends.map((f) => ({ name: frontendName(f.name) }))];
    return { ctx, workloads };
}

export function renderWiringSection(): string {
    const { ctx, workloads } = defaultWiring();
    const url = `${UPSTREAM.repo}/tree/${UPSTREAM.commit}`;
    const lines = [
        `Generated from \`config/wiring.ts\` by \`npm run docs:wiring\`; a unit test fails when this section and the contract`,
        `disagree. Upstream paths refer to [egovframe-msa-edu@${UPSTREAM.commit.slice(0, 7)}](${url}) (Spring Boot 3.5.6, Spring Cloud`,
        `2025.0.0). Who gets a setting follows the service graph (\`config/graph.ts\`) and catalog flags.`,
        "",
        "- **Served config beats the pod's environment.** The services are config clients in bootstrap mode",
        "  (`spring-cloud-starter-bootstrap`), and properties loaded in the bootstrap phase outrank local ones",
        "  ([Spring Cloud Commons](https://docs.spring.io/spring-cloud-commons/reference/spring-cloud-commons/application-context-services.html)).",
        "  So every value the platform must win with is a config server **override**",
        "  (`spring.cloud.config.server.overrides`, served to every client above all served files,",
        "  [docs](https://docs.spring.io/spring-cloud-config/reference/server/environment-repository/property-overrides.html))",
        "  whose value is an escaped placeholder (`\\${TOKEN_SECRET}`): the server keeps it as `${TOKEN_SECRET}` and",
        "  each client resolves it from its own env, filled from a Secret or the backend ConfigMap. Overrides rather than",
        "  `allowOverride`/`overrideSystemProperties`: those would have to be served by the repository itself (a git",
        "  repository the platform does not own), and they would let every local value beat the served files, not only",
        "  the platform's. The served files hold no credential and the config server has none of the placeholder",
        "  variables, so nothing generated can be read over its HTTP API.",
        `- **What is served.** \`configServer.path\`: a directory of Spring config files (e.g. the application's own`,
        `  \`config/\`), shipped in a ConfigMap mounted at \`${CONFIG_REPO_DIR}\` and served with the \`native\` profile;`,
        "  `configServer.git: {uri, label, searchPaths}`: a git repository (profile `git`). Neither: only the overrides,",
        "  so the services lack their own settings (datasource URLs, token lifetimes, stream bindings) until you give one.",
        `  The overrides file is \`${SERVER_SETTINGS_DIR}/${SERVER_SETTINGS_FILE}\` (ConfigMap \`config-server-configmap\`).`,
        "- **Logs** go to Logstash when `logging.enabled`: `logback-spring.xml` ships only outside the `default` profile,",
        `  to \`\${logstash_hostname}\` (a logback variable: system property, then OS env). The clients get`,
        `  \`SPRING_PROFILES_DEFAULT=${LOG_PROFILE}\` (renaming the default profile keeps \`spring.profiles.active\` unset, which`,
        "  the services' MessageSourceConfig needs) and `logstash_hostname=<logstash>:8088`, our Logstash's TCP port; the",
        "  images' `-Dlogstash.url` is read by nothing. Logging off: neither is set and the services log to stdout only.",
        "- **Traces** go to Zipkin when `tracing.enabled`: Micrometer Tracing reads `management.zipkin.tracing.endpoint`",
        "  and `management.tracing.sampling.probability` (`tracing.samplingProbability`, default 0.1). Tracing off:",
        "  `management.tracing.enabled=false`, so nothing retries a missing host.",
        "",
        "| env var | value from | feeds | via | upstream reader | who gets it | can still be overridden by |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        ...envSettings.map((s) => `| ${code(s.env)} | ${sourceText(s.source)} | ${cell(s.feeds)} | ${s.via} | ${cell(s.upstream)} | ${cell(s.who)} | ${cell(s.overriddenBy)} |`),
        "",
        "Served overrides (present when some config client reads them):",
        "",
        "| property | served value | replaces upstream's | read by |",
        "| --- | --- | --- | --- |",
        ...servedOverrides.map((o) => `| ${code(o.property)} | ${code(o.template(ctx))} | ${code(o.replaces)} | ${cell(o.who)} |`),
        "",
        "Per workload, built-in catalog, every part on:",
        "",
        "| workload | env vars |",
        "| --- | --- |",
        ...workloads.map((w) => `| ${w.name} | ${settingsFor(w, ctx).map((s) => code(s.env)).join(", ")} |`),
    ];
    return lines.join("\n");
}

/** README with the section body replaced by `body`. */
export function withSection(readme: string, body: string): string {
    const start = readme.indexOf(README_START);
    const end = readme.indexOf(README_END);
    if (start < 0 || end < start) throw new Error(`README lacks the markers ${README_START} ... ${README_END}`);
    return `${readme.slice(0, start + README_START.length)}\n${body}\n\n${readme.slice(end)}`;
}

/** The section body currently in README. */
export function sectionOf(readme: string): string {
    const start = readme.indexOf(README_START);
    const end = readme.indexOf(README_END);
    if (start < 0 || end < start) throw new Error(`README lacks the markers ${README_START} ... ${README_END}`);
    return readme.slice(start + README_START.length, end).trim();
}
