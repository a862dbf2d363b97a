// The Pulumi project name (Pulumi.yaml), in a module of its own: the offline commands read stack files with it
// before they load the SDK.
export const PROJECT = "egov-platform";
