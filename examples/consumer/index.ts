// Another team's stack: it reads the platform's output contract and builds on it (here it only re-exports).
import * as pulumi from "@pulumi/pulumi";

interface PlatformCredentials {
    mysql: { username: string; password: string; rootPassword: string };
    rabbitmq: { username: string; password: string };
    eureka: { username: string; password: string };
    tokenSecret: string;
}

const config = new pulumi.Config();
const platform = new pulumi.StackReference(config.require("platformStack"));

export const namespace = platform.requireOutput("namespace") as pulumi.Output<string>;
export const storageClass = platform.requireOutput("storageClass") as pulumi.Output<string>;
const endpoints = platform.requireOutput("endpoints") as pulumi.Output<Record<string, string>>;
export const mysqlEndpoint = endpoints.apply((e) => e.mysql);
export const configServer = endpoints.apply((e) => e.configServer);
export const mysqlSecretName = platform.requireOutput("secretNames").apply((s) => (s as Record<string, string>).mysql);
// Secret outputs stay secret across the reference: this one is encrypted in this stack's state too.
const credentials = platform.requireOutput("credentials") as pulumi.Output<PlatformCredentials>;
export const jdbcUser = credentials.apply((c) => c.mysql.username);
export const jdbcPassword = credentials.apply((c) => c.mysql.password);
