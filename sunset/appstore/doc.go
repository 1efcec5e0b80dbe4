// Package appstore is a small App Store Connect API client: just what the
// shutdown runbook needs to take an app off the App Store in every
// territory and read the availability back.
//
// Requests are authenticated with an ES256 JSON Web Token signed with the
// team's .p8 API key (header kid = key id; claims iss = issuer id, iat, exp
// at most 20 minutes later, aud = appstoreconnect-v1). A fresh token is
// signed for each request; the key never leaves the process and no token or
// key material appears in errors. Requests run one at a time; a failure is
// returned, not retried: the runbook retries the whole step on its next
// tick, and the step is idempotent.
//
// The resources used are the v2 app availability (GET
// /v1/apps/{id}/appAvailabilityV2), its territory availabilities (GET
// /v2/appAvailabilities/{id}/territoryAvailabilities, paginated) and the
// update of one territory availability (PATCH
// /v1/territoryAvailabilities/{id} with available=false).
package appstore
