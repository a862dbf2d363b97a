// The Secrets a stack needs before its workloads can use them (the ingress' TLS certificate, the off-site store's key
// pair) given as encrypted stack config: the program makes them in the namespace it creates on the first up, so no
// step has to place them beforehand. Refused in plain text, never echoed, and one source per Secret.
import * as assert from "assert";
import { OUTSIDE_GIT_ANNOTATION } from "../components/backup";
import { ConfigError, loadConfig, SECURE_MARKER } from "../config";
import { deploy, Deployed } from "../scripts/lib/mocked-run";
import { isWrappedSecret, Obj, sourceOf, stackConfig, withObject } from "./support/harness";

const CERT = "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIIEkeyMaterialNeverShown\n-----END PRIVATE KEY-----\n";
const ACCESS = "AKIAEXAMPLEID", SECRET_KEY = "wJalrXUtnFEMIexampleSecretNeverShown";

type Raw = Record<string, string>;
const problems = (raw: Raw, secretKeys: readonly string[], stack = "prod"): string[] => {
    try {
        loadConfig(sourceOf(raw), stack, [], (k) => secretKeys.includes(k));
        return [];
    } catch (e) {
        if (e instanceof ConfigError) return [...e.problems];
        throw e;
    }
};
/** prod with the certificate and key in stack config (key tls) instead of its ingress.tlsSecretName. */
const withTls = (tls: Obj): Raw => {
    const raw = stackConfig("prod");
    const ingress = JSON.parse(raw.ingress) as Obj;
    delete ingress.tlsSecretName;
    return { ...raw, ingress: JSON.stringify(ingress), tls: JSON.stringify(tls) };
};
const offsiteOf = (raw: Raw): Obj => JSON.parse(raw.backup).offsite as Obj;
/** prod's off-site store with the key pair in stack config (key offsiteCredentials) instead of a Secret made outside git. */
const withKeys = (credentials: Obj | undefined, keepName = false): Raw => {
    const raw = stackConfig("prod");
    const backup = JSON.parse(raw.backup) as Obj;
    if (!keepName) delete backup.offsite.credentialsSecretName;
    return { ...raw, backup: JSON.stringify(backup), ...(credentials ? { offsiteCredentials: JSON.stringify(credentials) } : {}) };
};

describe("Secrets from encrypted stack config", function () {
    this.timeout(120_000);

    describe("tls", () => {
        let d: Deployed;
        before(async () => { d = await deploy(withTls({ certificate: CERT, key: KEY }), "prod", ["tls"]); });

        it("makes the kubernetes.io/tls Secret ingress-tls, values secret, and every Ingress serves https with it", () => {
            const secret = d.k8s.find((r) => r.type === "kubernetes:core/v1:Secret" && r.obj.metadata?.name === "ingress-tls");
            assert.ok(secret, "no Secret ingress-tls");
            assert.strictEqual(secret.obj.type, "kubernetes.io/tls");
            assert.ok(isWrappedSecret(secret.raw.stringData), "the certificate and key are secret in the state");
            assert.deepStrictEqual(Object.keys(secret.obj.stringData).sort(), ["tls.crt", "tls.key"]);
            assert.strictEqual(secret.obj.stringData["tls.key"], KEY);
            const ingresses = d.of("Ingress");
            assert.ok(ingresses.length > 0);
            for (const i of ingresses) assert.strictEqual(i.spec.tls?.[0]?.secretName, "ingress-tls", i.metadata.name);
            assert.ok(Object.values(d.exports.urls as Record<string, string>).every((u) => u.startsWith("https://")), JSON.stringify(d.exports.urls));
            assert.ok(!JSON.stringify(d.exports).includes("MIIEkeyMaterial"), "the key is in no output");
        });

        it("without it, no such Secret: a tlsSecretName names one made outside git", async () => {
            const plain = await deploy(stackConfig("prod"), "prod");
            assert.strictEqual(plain.find("Secret", "ingress-tls"), undefined);
        });

        it("refuses it in plain text, incomplete, not PEM, or together with tlsSecretName, never showing a value", () => {
            const cases: Array<[Raw, string[], RegExp]> = [
                [withTls({ certificate: CERT, key: KEY }), [], /egov-platform:tls: stored in plain text .*pulumi config set --secret --path tls\.key < FILE/],
                [withTls({ certificate: CERT }), ["tls"], /tls\.key: not set; expected its PEM private key/],
                [withTls({ certificate: CERT, key: "MIIEkeyMaterialNeverShown" }), ["tls"], /tls\.key: \(value not shown\) is not allowed; expected its PEM private key/],
                [withTls({ certificate: CERT, key: KEY, extra: "MIIEkeyMaterialNeverShown" }), ["tls"], /tls\.extra: not a field/],
                [withObject(withTls({ certificate: CERT, key: KEY }), "ingress", { tlsSecretName: "made-by-hand" }), ["tls"], /tlsSecretName .*egov-platform:tls: both set/],
            ];
            for (const [raw, secret, expected] of cases) {
                const p = problems(raw, secret);
                assert.ok(p.some((x) => expected.test(x)), `${expected}\n${p.join("\n")}`);
                assert.ok(!p.join("\n").includes("MIIEkeyMaterial"), p.join("\n"));
            }
            assert.deepStrictEqual(problems(withTls({ certificate: CERT, key: KEY }), ["tls"]), []);
        });

        it("offline (render, boot-check: the encrypted key is a marker as a whole) it is accepted, and ingress is still read", () => {
            const raw = { ...withTls({}), tls: SECURE_MARKER };
            const cfg = loadConfig(sourceOf(raw), "prod", [], (k) => k === "tls");
            assert.strictEqual(cfg.ingress.tlsSecretName, "ingress-tls");
            assert.strictEqual(cfg.ingress.className, JSON.parse(stackConfig("prod").ingress).className ?? "nginx");
        });
    });

    describe("offsiteCredentials", () => {
        let d: Deployed;
        before(async () => { d = await deploy(withKeys({ accessKeyId: ACCESS, secretAccessKey: SECRET_KEY }), "prod", ["offsiteCredentials"]); });

        it("makes the Secret backup-offsite-credentials, values secret, which the uploads read; it is not declared as made outside git", () => {
            const secret = d.k8s.find((r) => r.type === "kubernetes:core/v1:Secret" && r.obj.metadata?.name === "backup-offsite-credentials");
            assert.ok(secret, "no Secret backup-offsite-credentials");
            assert.ok(isWrappedSecret(secret.raw.stringData));
            assert.deepStrictEqual(secret.obj.stringData, { "access-key-id": ACCESS, "secret-access-key": SECRET_KEY });
            const cj = d.find("CronJob", "mysql-backup")!;
            const up = cj.spec.jobTemplate.spec.template.spec.containers.find((c: Obj) => c.name === "offsite");
            const ref = up.env.find((e: Obj) => e.name === "AWS_SECRET_ACCESS_KEY").valueFrom.secretKeyRef;
            assert.deepStrictEqual(ref, { name: "backup-offsite-credentials", key: "secret-access-key" });
            assert.deepStrictEqual(JSON.parse(cj.metadata.annotations[OUTSIDE_GIT_ANNOTATION]).secrets, []);
            assert.ok(!JSON.stringify(d.exports).includes(SECRET_KEY));
        });

        it("refuses it in plain text, incomplete, with credentialsSecretName too, or with neither, never showing a value", () => {
            const cases: Array<[Raw, string[], RegExp]> = [
                [withKeys({ accessKeyId: ACCESS, secretAccessKey: SECRET_KEY }), [], /offsiteCredentials: stored in plain text/],
                [withKeys({ accessKeyId: ACCESS }), ["offsiteCredentials"], /offsiteCredentials\.secretAccessKey: not set/],
                [withKeys({ accessKeyId: ACCESS, secretAccessKey: SECRET_KEY }, true), ["offsiteCredentials"], /credentialsSecretName .*offsiteCredentials: both set/],
                [withKeys(undefined), [], /backup\.offsite\.credentialsSecretName: not set; .*or offsiteCredentials \(encrypted\)/],
                [{ ...stackConfig("dev"), offsiteCredentials: JSON.stringify({ accessKeyId: ACCESS, secretAccessKey: SECRET_KEY }) }, ["offsiteCredentials"],
                    /offsiteCredentials: set, but backup\.offsite is not/],
            ];
            for (const [raw, secret, expected] of cases) {
                const p = problems(raw, secret);
                assert.ok(p.some((x) => expected.test(x)), `${expected}\n${p.join("\n")}`);
                assert.ok(!p.join("\n").includes(SECRET_KEY), p.join("\n"));
            }
            assert.strictEqual(offsiteOf(withKeys(undefined)).credentialsSecretName, undefined);
        });
    });
});
