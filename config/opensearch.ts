// OpenSearch's security facts, one home: its users, the Secret with their generated passwords, and the keys in it.
// Read by the plan (Logging and the snapshot job), the boot check and the tests.

/** The security plugin's users: admin (from OPENSEARCH_INITIAL_ADMIN_PASSWORD), Dashboards' server user, the shipper, the snapshot job. */
export const OPENSEARCH_USERS = { admin: "admin", dashboards: "kibanaserver", logstash: "logstash", snapshot: "snapshot" } as const;

/** The Secret the program makes with every user's generated password. */
export const OPENSEARCH_SECRET = "opensearch-credentials";

/** Its keys, per user. */
export const OPENSEARCH_CREDENTIAL_KEYS = {
    admin: "admin-password", dashboards: "dashboards-password", logstash: "logstash-password", snapshot: "snapshot-password",
} as const;

/** The env var the OpenSearch image (2.12+) requires; the security plugin's admin password. */
export const INITIAL_ADMIN_PASSWORD_ENV = "OPENSEARCH_INITIAL_ADMIN_PASSWORD";

/** Keys of the TLS Secret (logging.tlsSecretName): cert-manager's Certificate writes these. */
export const OPENSEARCH_TLS_KEYS = ["tls.crt", "tls.key", "ca.crt"] as const;
