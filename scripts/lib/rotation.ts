// The stack-file half of `npm run rotate`: raise one credential's generation in Pulumi.<stack>.yaml, keeping
// the file's comments and layout (the change is reviewed and committed like any other config change).
import * as fs from "fs";
import { isMap, parseDocument } from "yaml";
import { PROJECT, rotatedCredentials, RotatedCredential } from "../../config";

/** What each rotation does, in the user's words (README "Day 2", docs/day-2.md). */
export const rotationEffects: Record<RotatedCredential, string> = {
    mysql: "a Job sets up the next of two alternating MySQL users (msaportal, msaportal_b) with a new password; then the mysql Secret " +
        "names it and every service using the database rolls, the pods not yet rolled keeping the previous user; once all rolled, a Job " +
        "locks the previous user. No login fails at any moment; open connections survive.",
    rabbitmq: "a Job sets up the next of two alternating RabbitMQ users with a new password and the current user's tags and permissions; " +
        "then the rabbitmq Secret names it and every service using the broker rolls; once all rolled, a Job clears the previous user's " +
        "password. No login fails at any moment; open AMQP connections survive.",
    eureka: "a new Eureka password: the discovery server and every client roll in the same up. Until a client has rolled, its heartbeats " +
        "are refused and it drops out of the registry (for at most one rollout).",
    token: "a new token signing secret: the services that sign and check tokens roll in the same up. Tokens signed with the old secret are " +
        "refused after the switch: users sign in again.",
};

export function isRotatedCredential(c: string): c is RotatedCredential {
    return (rotatedCredentials as readonly string[]).includes(c);
}

/** Raises `rotation.<credential>` in the stack file by one; returns the old and new generation. */
export function bumpGeneration(file: string, credential: RotatedCredential): { from: number; to: number } {
    const doc = parseDocument(fs.readFileSync(file, "utf8"));
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    const key = `${PROJECT}:rotation`;
    const config = doc.get("config");
    if (!isMap(config)) throw new Error(`${file} has no config: map`);
    const current = doc.getIn(["config", key, credential]);
    const from = current === undefined ? 0 : Number(current);
    if (!Number.isInteger(from) || from < 0) throw new Error(`${file}: ${key}.${credential} is ${JSON.stringify(current)}, not a generation number`);
    const to = from + 1;
    if (!isMap(doc.getIn(["config", key]))) doc.setIn(["config", key], doc.createNode({}));
    doc.setIn(["config", key, credential], to);
    fs.writeFileSync(file, doc.toString());
    return { from, to };
}
