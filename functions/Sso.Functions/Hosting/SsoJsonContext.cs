using System.Text.Json.Serialization;
using Sso.Functions.DirectorySync;
using Sso.Functions.Deprovisioning;
using Sso.Functions.Outbox;
using Sso.Functions.OAuth;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Tenants;
using Sso.Functions.Webhooks;

namespace Sso.Functions.Hosting;

/// <summary>
/// Every DTO the service reads or writes. Request bodies are strict: a field the type does not
/// know is an error (problem+json 400), never silently dropped.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(DeadLetterList))]
[JsonSerializable(typeof(DeprovisionTask))]
[JsonSerializable(typeof(TenantPurgeTask))]
[JsonSerializable(typeof(GroupMembershipTask))]
[JsonSerializable(typeof(DeadLetterReplayed))]
[JsonSerializable(typeof(ProblemBody))]
[JsonSerializable(typeof(OAuthErrorBody))]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(WorkEnvelope))]
[JsonSerializable(typeof(GoogleDirectory.GoogleSyncTask))]
[JsonSerializable(typeof(CreateTenantRequest))]
[JsonSerializable(typeof(TenantPatchTarget))]
[JsonSerializable(typeof(TenantSettings))]
[JsonSerializable(typeof(TenantView))]
[JsonSerializable(typeof(TenantList))]
[JsonSerializable(typeof(DomainView))]
[JsonSerializable(typeof(DomainList))]
[JsonSerializable(typeof(CreateClientRequest))]
[JsonSerializable(typeof(ClientView))]
[JsonSerializable(typeof(CreatedClient))]
[JsonSerializable(typeof(SigningKeyRing))]
[JsonSerializable(typeof(SigningKeyView))]
[JsonSerializable(typeof(SigningKeyList))]
[JsonSerializable(typeof(Saml.SpKeyRing))]
[JsonSerializable(typeof(Saml.SpKeyView))]
[JsonSerializable(typeof(Saml.SpKeyList))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonObject))]
[JsonSerializable(typeof(CreateDirectoryRequest))]
[JsonSerializable(typeof(CreatedDirectory))]
[JsonSerializable(typeof(DirectoryView))]
[JsonSerializable(typeof(CreateTokenRequest))]
[JsonSerializable(typeof(CreatedToken))]
[JsonSerializable(typeof(TokenList))]
[JsonSerializable(typeof(CreateWebhookRequest))]
[JsonSerializable(typeof(UpdateWebhookRequest))]
[JsonSerializable(typeof(WebhookView))]
[JsonSerializable(typeof(CreatedWebhook))]
[JsonSerializable(typeof(WebhookList))]
[JsonSerializable(typeof(WebhookDeliveryList))]
[JsonSerializable(typeof(WebhookDeliveryMessage))]
[JsonSerializable(typeof(WebhookTestEvent))]
[JsonSerializable(typeof(WebhookTestQueued))]
[JsonSerializable(typeof(HeldDeliveryList))]
[JsonSerializable(typeof(HeldDeliveriesQueued))]
public partial class SsoJsonContext : JsonSerializerContext;
