/**
 * The `default` policy written at initialisation (operators may edit it, never delete it). Its
 * rules are Vault's: a token may look itself up, renew and revoke itself, check its own
 * capabilities, and use its cubbyhole. Identity-templated rules arrive with identity.
 */
export const DEFAULT_POLICY = `# Tokens may look up, renew and revoke themselves.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# A token may ask what it may do on a path.
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# A token may read the ACL its policies add up to.
path "sys/internal/ui/resultant-acl" {
  capabilities = ["read"]
}

# Lease self-service.
path "sys/renew" {
  capabilities = ["update"]
}
path "sys/leases/renew" {
  capabilities = ["update"]
}
path "sys/leases/lookup" {
  capabilities = ["update"]
}

# Each token owns a private cubbyhole.
path "cubbyhole/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Response wrapping.
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}
path "sys/wrapping/lookup" {
  capabilities = ["update"]
}
path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}

# General-purpose tools.
path "sys/tools/hash" {
  capabilities = ["update"]
}
path "sys/tools/hash/*" {
  capabilities = ["update"]
}
`;
