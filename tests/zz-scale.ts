import { deployFresh, stackConfig } from "./harness";
const svc = (i: number) => ({ name: `bench-${String(i).padStart(3, "0")}`, image: `registry.example.go.kr/egov/bench:${i}`, port: 8080,
    needsDatabase: true, usesDiscovery: true, usesConfigServer: true, usesMessaging: true, routedByGateway: true, usesToken: true });
(async () => {
    await deployFresh(stackConfig("dev"));
    for (const n of [0, 27, 81]) {
        const raw = stackConfig("dev", n ? { services: Array.from({ length: n }, (_, i) => svc(i)) } : {});
        const t = process.hrtime.bigint();
        const d = await deployFresh(raw);
        console.log(n, d.all.length, "resources", Math.round(Number(process.hrtime.bigint() - t) / 1e6), "ms");
    }
})();
