// Names of the namespace-scoped deployer, apart from scripts/lib/admin.ts so `npm run render --help` loads no Pulumi SDK.
export const DEPLOYER = "egov-platform-deployer";
export const SUBJECT_HELP = "serviceaccount:NAME (in the stack's namespace), serviceaccount:NS/NAME, user:NAME or group:NAME";
