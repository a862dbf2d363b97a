import * as assert from "assert";
import { loadConfig } from "../config";
import { backendServices } from "../config/catalog";
import { serviceGraph } from "../config/graph";
import { sourceOf, stackConfig } from "./support/harness";

const graphOf = (overrides: Record<string, unknown> = {}) => serviceGraph(loadConfig(sourceOf(stackConfig("dev", overrides)), "dev"));

describe("the service graph", () => {
    it("derives each dependency from the catalog's flags", () => {
        const g = graphOf();
        assert.ok(g.allows("board-service", "mysql", 3306));
        assert.ok(g.allows("board-service", "rabbitmq", 5672));
        assert.ok(g.allows("board-service", "config", 8888));
        assert.ok(g.allows("board-service", "discovery", 8761));
        assert.ok(g.allows("apigateway", "board-service", 8080));
        assert.ok(g.allows("frontend-portal", "apigateway", 8000));
        assert.ok(g.allows("logstash", "opensearch", 9200));
    });

    it("has no edge the catalog does not ask for", () => {
        const g = graphOf();
        assert.ok(!g.dependenciesOf("frontend-admin").some((e) => e.to === "mysql"), "a frontend never reaches MySQL");
        assert.ok(!g.dependenciesOf("discovery").some((e) => e.to === "mysql"));
        assert.ok(!g.edges.some((e) => e.to === "jenkins" && e.from !== "jenkins-agent"), "no workload but Jenkins' own agents calls Jenkins");
        assert.ok(!g.allows("apigateway", "mysql", 3306));
    });

    it("drops the edges of parts that are switched off", () => {
        const g = graphOf({ tracing: { enabled: false }, logging: { enabled: false }, ci: { enabled: false } });
        assert.ok(!g.edges.some((e) => ["zipkin", "logstash", "opensearch"].includes(e.to)));
        assert.ok(!g.nodes.has("jenkins"));
    });

    it("orders every workload after the servers it needs ready", () => {
        const g = graphOf();
        const at = (n: string) => g.deployOrder.indexOf(n);
        for (const e of g.edges.filter((x) => x.readyBefore)) assert.ok(at(e.to) < at(e.from), `${e.to} before ${e.from}`);
        assert.strictEqual(new Set(g.deployOrder).size, g.nodes.size);
    });

    it("refuses a readiness cycle and a dependency on a part that is not deployed", () => {
        const cfg = loadConfig(sourceOf(stackConfig("dev")), "dev");
        const cyclic = backendServices.map((s) => (s.name === "config" ? { ...s, usesDiscovery: true } : s.name === "discovery" ? { ...s, usesConfigServer: true } : s));
        assert.throws(() => serviceGraph(cfg, cyclic), /readiness cycle/);
        const noConfig = backendServices.filter((s) => s.name !== "config");
        assert.throws(() => serviceGraph(cfg, noConfig), /needs config, which this stack does not deploy/);
    });
});
