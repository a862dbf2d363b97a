// The ten-times platform of the bench and of the scale fault test: the dev stack's config plus generated backend
// services that use the config server, discovery, MySQL and RabbitMQ like the built-ins.
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";

/** Writes Pulumi.<stack>.yaml in `dir`: Pulumi.dev.yaml there, with `n` generated entries of the `services` key. */
export function writeScaleStack(dir: string, n: number, stack = "scale"): void {
    const dev = parse(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    dev.config["egov-platform:services"] = Array.from({ length: n }, (_, i) => ({
        name: `bench-${String(i).padStart(3, "0")}`, image: `registry.example.go.kr/egov/bench:${i}`, port: 8080,
        needsDatabase: true, usesDiscovery: true, usesConfigServer: true, usesMessaging: true, routedByGateway: true, usesToken: true,
    }));
    // YAML 1.1 quoting: the Pulumi CLI (Go, YAML 1.1) would read an unquoted 2027-01-31 as a timestamp.
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify(dev, { version: "1.1" }));
}
