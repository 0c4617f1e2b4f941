using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sso.Functions.Hosting;
using Sso.Testing;
using static Sso.Deploy.Tests.ArmTemplate;

namespace Sso.Deploy.Tests.Infra;

public partial class MainTemplateTests
{
    [Fact]
    public async Task Builds_with_no_errors_and_no_warnings()
    {
        var (exitCode, _, standardError) = await Bicep.RunAsync("build", Bicep.MainTemplate, "--stdout");
        Assert.Equal(0, exitCode);
        Assert.Equal("", standardError.Trim());
    }

    [Fact]
    public async Task Lints_with_no_errors_and_no_warnings()
    {
        var (exitCode, standardOutput, standardError) = await Bicep.RunAsync("lint", Bicep.MainTemplate);
        Assert.Equal(0, exitCode);
        Assert.Equal("", (standardOutput + standardError).Trim());
    }

    [Fact]
    public async Task Declares_the_parameters_an_operator_sets()
    {
        var parameters = (await Bicep.CompiledMainAsync())["parameters"]!.AsObject();
        foreach (var name in new[] { "namePrefix", "location", "alwaysReadyInstanceCount", "maximumInstanceCount", "adminApiKeyHashes" })
            Assert.True(parameters.ContainsKey(name), $"main.bicep has no parameter {name}");
        Assert.Equal("securestring", parameters["adminApiKeyHashes"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Parameters_file_sets_only_parameters_that_exist()
    {
        var declared = (await Bicep.CompiledMainAsync())["parameters"]!.AsObject().Select(p => p.Key).ToHashSet();
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "infra", "main.parameters.json")))!;
        var set = file["parameters"]!.AsObject().Select(p => p.Key).ToList();
        Assert.All(set, name => Assert.Contains(name, declared));
        Assert.Contains("namePrefix", set);
        Assert.Contains("location", set);
    }

    [Fact]
    public async Task Runs_the_custom_handler_on_a_flex_consumption_plan()
    {
        var resources = Resources(await Bicep.CompiledMainAsync()).ToList();
        var plan = Assert.Single(resources, r => r.Type == "Microsoft.Web/serverfarms").Body;
        Assert.Equal("FC1", plan["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("FlexConsumption", plan["sku"]!["tier"]!.GetValue<string>());
        Assert.True(plan["properties"]!["reserved"]!.GetValue<bool>()); // Linux

        var site = Assert.Single(resources, r => r.Type == "Microsoft.Web/sites").Body;
        Assert.Equal("functionapp,linux", site["kind"]!.GetValue<string>());
        Assert.Equal("UserAssigned", site["identity"]!["type"]!.GetValue<string>());
        var config = site["properties"]!["functionAppConfig"]!;
        Assert.Equal("custom", config["runtime"]!["name"]!.GetValue<string>());
        Assert.Equal("blobContainer", config["deployment"]!["storage"]!["type"]!.GetValue<string>());
        Assert.Equal("UserAssignedIdentity", config["deployment"]!["storage"]!["authentication"]!["type"]!.GetValue<string>());
        var scale = config["scaleAndConcurrency"]!;
        Assert.Equal("[parameters('maximumInstanceCount')]", scale["maximumInstanceCount"]!.GetValue<string>());
        Assert.Contains("alwaysReadyInstanceCount", Text(scale["alwaysReady"]));
        Assert.Contains("'http'", Text(scale["alwaysReady"]));
        Assert.True(site["properties"]!["httpsOnly"]!.GetValue<bool>());
        Assert.Contains("userAssignedIdentities", Text(site["properties"]!["keyVaultReferenceIdentity"]));
    }

    [Fact]
    public async Task Turns_off_basic_publishing_credentials_for_scm_and_ftp()
    {
        var policies = Resources(await Bicep.CompiledMainAsync())
            .Where(r => r.Type == "Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();
        Assert.Equal(2, policies.Count);
        Assert.Contains(policies, p => p.Body["name"]!.GetValue<string>().EndsWith("'scm')]", StringComparison.Ordinal));
        Assert.Contains(policies, p => p.Body["name"]!.GetValue<string>().EndsWith("'ftp')]", StringComparison.Ordinal));
        Assert.All(policies, p => Assert.False(p.Body["properties"]!["allow"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task Private_networking_is_a_parameter_that_is_off_by_default()
    {
        var parameter = (await Bicep.CompiledMainAsync())["parameters"]!["privateNetworking"]!;
        Assert.Equal("bool", parameter["type"]!.GetValue<string>());
        Assert.False(parameter["defaultValue"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Private_networking_adds_private_endpoints_with_dns_for_storage_both_vaults_and_service_bus()
    {
        var main = await Bicep.CompiledMainAsync();
        var network = Assert.Single(Resources(main), r => r.Type == "Microsoft.Resources/deployments"
            && Resources(r.Body["properties"]!["template"]!.AsObject()).Any(n => n.Type == "Microsoft.Network/privateEndpoints"));
        Assert.Equal("[parameters('privateNetworking')]", network.Body["condition"]!.GetValue<string>());

        var template = network.Body["properties"]!["template"]!.AsObject();
        var resources = Resources(template).ToList();
        var vnet = Assert.Single(resources, r => r.Type == "Microsoft.Network/virtualNetworks").Body;
        var subnets = vnet["properties"]!["subnets"]!.AsArray();
        Assert.Equal(2, subnets.Count);
        Assert.Equal("Microsoft.App/environments", subnets[0]!["properties"]!["delegations"]![0]!["properties"]!["serviceName"]!.GetValue<string>());

        // One endpoint per target and sub-resource, each with a zone group; zones linked to the VNet.
        var endpoints = template["variables"]!["endpoints"]!.AsArray();
        var targets = endpoints.Select(e => (Target: Text(e!["id"]), Group: e!["groupId"]!.GetValue<string>())).ToList();
        Assert.Contains(("[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]", "blob"), targets);
        Assert.Contains(("[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]", "queue"), targets);
        Assert.Contains(("[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]", "table"), targets);
        Assert.Contains(("[resourceId('Microsoft.KeyVault/vaults', parameters('keyVaultName'))]", "vault"), targets);
        Assert.Contains(("[resourceId('Microsoft.KeyVault/vaults', parameters('adminVaultName'))]", "vault"), targets);
        Assert.Contains(("[resourceId('Microsoft.ServiceBus/namespaces', parameters('serviceBusNamespaceName'))]", "namespace"), targets);
        Assert.Equal("[length(variables('endpoints'))]", Text(Assert.Single(resources, r => r.Type == "Microsoft.Network/privateEndpoints").Body["copy"]!["count"]));
        Assert.Equal("[length(variables('endpoints'))]", Text(Assert.Single(resources, r => r.Type == "Microsoft.Network/privateEndpoints/privateDnsZoneGroups").Body["copy"]!["count"]));
        Assert.Equal("[length(variables('zoneNames'))]", Text(Assert.Single(resources, r => r.Type == "Microsoft.Network/privateDnsZones").Body["copy"]!["count"]));
        Assert.Equal("[length(variables('zoneNames'))]", Text(Assert.Single(resources, r => r.Type == "Microsoft.Network/privateDnsZones/virtualNetworkLinks").Body["copy"]!["count"]));

        // The app's outbound traffic goes through the delegated subnet.
        var app = Module(main, "functionApp");
        Assert.Contains("reference('network').outputs.appSubnetId.value", Text(app["properties"]!["parameters"]!["virtualNetworkSubnetId"]));
        var site = Assert.Single(Resources(main), r => r.Type == "Microsoft.Web/sites").Body;
        Assert.Contains("virtualNetworkSubnetId", Text(site["properties"]!["virtualNetworkSubnetId"]));
    }

    [Fact]
    public async Task Private_networking_turns_public_access_off_and_service_bus_to_premium()
    {
        var main = await Bicep.CompiledMainAsync();
        Assert.Equal("[if(parameters('privateNetworking'), 'Disabled', 'Enabled')]", main["variables"]!["publicNetworkAccess"]!.GetValue<string>());
        foreach (var module in new[] { "storage", "keyVault", "adminVault", "serviceBus" })
            Assert.Equal("[variables('publicNetworkAccess')]",
                Text(Module(main, module)["properties"]!["parameters"]!["publicNetworkAccess"]!["value"]));

        var resources = Resources(main).ToList();
        foreach (var type in new[] { "Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults", "Microsoft.ServiceBus/namespaces" })
            Assert.All(resources.Where(r => r.Type == type && r.Body["existing"]?.GetValue<bool>() != true), r =>
                Assert.Equal("[parameters('publicNetworkAccess')]", Text(r.Body["properties"]!["publicNetworkAccess"])));

        // Service Bus accepts private endpoints only on Premium.
        Assert.Equal("[if(parameters('privateNetworking'), createObject('value', 'Premium'), createObject('value', 'Standard'))]",
            Text(Module(main, "serviceBus")["properties"]!["parameters"]!["sku"]));
    }

    [Fact]
    public async Task Keeps_state_in_a_storage_account_with_shared_key_access_off()
    {
        var resources = Resources(await Bicep.CompiledMainAsync()).ToList();
        var account = Assert.Single(resources, r => r.Type == "Microsoft.Storage/storageAccounts").Body;
        Assert.False(account["properties"]!["allowSharedKeyAccess"]!.GetValue<bool>());
        Assert.False(account["properties"]!["allowBlobPublicAccess"]!.GetValue<bool>());
        Assert.Single(resources, r => r.Type == "Microsoft.Storage/storageAccounts/tableServices");
        Assert.Single(resources, r => r.Type == "Microsoft.Storage/storageAccounts/queueServices");
        // The deployment package container, and the host's two containers (one copy loop).
        Assert.Equal(2, resources.Count(r => r.Type == "Microsoft.Storage/storageAccounts/blobServices/containers"));
    }

    [Fact]
    public async Task Creates_a_service_bus_queue_per_work_queue_with_duplicate_detection_and_dead_lettering()
    {
        var resources = Resources(await Bicep.CompiledMainAsync()).ToList();
        var sb = Assert.Single(resources, r => r.Type == "Microsoft.ServiceBus/namespaces");
        var ns = sb.Body;
        // Basic has no duplicate detection: Standard, or Premium for private endpoints.
        Assert.Equal("[parameters('sku')]", ns["sku"]!["name"]!.GetValue<string>());
        Assert.Equal(["Standard", "Premium"], sb.Template["parameters"]!["sku"]!["allowedValues"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.True(ns["properties"]!["disableLocalAuth"]!.GetValue<bool>());

        var queue = Assert.Single(resources, r => r.Type == "Microsoft.ServiceBus/namespaces/queues").Body;
        Assert.Equal("[length(parameters('queueNames'))]", queue["copy"]!["count"]!.GetValue<string>());
        var properties = queue["properties"]!;
        Assert.True(properties["requiresDuplicateDetection"]!.GetValue<bool>());
        Assert.True(properties["deadLetteringOnMessageExpiration"]!.GetValue<bool>());
        Assert.Equal("[parameters('maxDeliveryCount')]", properties["maxDeliveryCount"]!.GetValue<string>());
        Assert.Matches("^PT", properties["lockDuration"]!.GetValue<string>());
        Assert.Matches("^P", properties["duplicateDetectionHistoryTimeWindow"]!.GetValue<string>());
    }

    [Fact]
    public void Lists_exactly_the_queues_of_the_queue_functions()
    {
        // infra/work-queues.json feeds the Service Bus module; FunctionTable.Queues is what the
        // package's serviceBusTrigger bindings listen on. A worker without its queue never runs.
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "infra", "work-queues.json")))!.AsArray();
        var listed = file.Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();
        var used = FunctionTable.Queues.Select(q => q.QueueName).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(used, listed);
    }

    [Fact]
    public async Task Uses_key_vaults_with_rbac_authorization_and_stores_the_admin_key_hashes_in_one()
    {
        var resources = Resources(await Bicep.CompiledMainAsync()).ToList();
        var vaults = resources.Where(r => r.Type == "Microsoft.KeyVault/vaults").ToList();
        Assert.Equal(2, vaults.Count); // the app's own secrets; the admin key hashes
        Assert.All(vaults, v => Assert.True(v.Body["properties"]!["enableRbacAuthorization"]!.GetValue<bool>()));
        Assert.All(vaults, v => Assert.True(v.Body["properties"]!["enablePurgeProtection"]!.GetValue<bool>()));
        Assert.Single(resources, r => r.Type == "Microsoft.KeyVault/vaults/secrets");
    }

    [Fact]
    public async Task The_identity_can_read_the_admin_key_hashes_but_not_write_them()
    {
        var main = await Bicep.CompiledMainAsync();
        var resources = Resources(main).ToList();
        var secret = Assert.Single(resources, r => r.Type == "Microsoft.KeyVault/vaults/secrets");
        var adminVaultModule = secret.Module;

        // Nothing in the vault that holds the hashes may write secrets: no Officer, no Administrator,
        // no Contributor-style role at the vault; the only grant is Secrets User on that one secret.
        var grants = RoleAssignments(main).Where(a => a.Module == adminVaultModule).ToList();
        var grant = Assert.Single(grants);
        Assert.Equal(KeyVaultSecretsUser, grant.RoleDefinitionId);
        Assert.Equal("[resourceId('Microsoft.KeyVault/vaults/secrets', parameters('name'), variables('adminApiKeyHashesSecretName'))]", grant.Scope);
        Assert.Equal("[reference('identity').outputs.principalId.value]", grant.ModulePrincipalId);
        Assert.DoesNotContain(grants, a => a.RoleDefinitionId is KeyVaultSecretsOfficer or KeyVaultAdministrator);

        // Secrets Officer stays on the app's own vault, which holds no admin key material.
        var officer = Assert.Single(RoleAssignments(main), a => a.RoleDefinitionId == KeyVaultSecretsOfficer);
        Assert.NotEqual(adminVaultModule, officer.Module);
        Assert.DoesNotContain(resources, r => r.Module == officer.Module && r.Type == "Microsoft.KeyVault/vaults/secrets");

        // The platform resolves the reference in the admin vault, not in the app's vault.
        var settings = AppSettings(main);
        Assert.Contains("parameters('adminVaultName')", settings["Admin__ApiKeyHashes"]);
        Assert.DoesNotContain("parameters('keyVaultName')", settings["Admin__ApiKeyHashes"]);
    }

    [Fact]
    public async Task Has_an_app_identity_a_deployment_identity_and_application_insights_on_a_workspace()
    {
        var resources = Resources(await Bicep.CompiledMainAsync()).ToList();
        // The app's identity, and the deployment identity that only handles the package.
        Assert.Equal(2, resources.Count(r => r.Type == "Microsoft.ManagedIdentity/userAssignedIdentities"
            && r.Body["existing"]?.GetValue<bool>() != true));
        Assert.Single(resources, r => r.Type == "Microsoft.OperationalInsights/workspaces");
        var insights = Assert.Single(resources, r => r.Type == "Microsoft.Insights/components").Body;
        Assert.Contains("Microsoft.OperationalInsights/workspaces", Text(insights["properties"]!["WorkspaceResourceId"]));
    }

    [Fact]
    public async Task Grants_no_blob_data_role_on_the_whole_storage_account()
    {
        var blobRoles = RoleAssignments(await Bicep.CompiledMainAsync())
            .Where(a => a.RoleDefinitionId is BlobDataOwner or BlobDataContributor or BlobDataReader).ToList();
        Assert.NotEmpty(blobRoles);
        Assert.All(blobRoles, a => Assert.StartsWith("[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', ", a.Scope));
        Assert.DoesNotContain(blobRoles, a => a.RoleDefinitionId == BlobDataOwner);
    }

    [Fact]
    public async Task Gives_the_host_blob_access_only_to_its_two_precreated_containers()
    {
        var main = await Bicep.CompiledMainAsync();
        var host = Assert.Single(RoleAssignments(main),
            a => a.RoleDefinitionId == BlobDataContributor && a.ModulePrincipalId == AppIdentity);
        Assert.Equal("[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', parameters('name'), 'default', variables('hostContainerNames')[copyIndex()])]", host.Scope);

        var storage = Assert.Single(Resources(main), r => r.Type == "Microsoft.Storage/storageAccounts").Template;
        var names = storage["variables"]!["hostContainerNames"]!.AsArray().Select(n => n!.GetValue<string>()).Order().ToList();
        Assert.Equal(["azure-webjobs-hosts", "azure-webjobs-secrets"], names);
        var containers = Resources(main).Where(r => r.Type == "Microsoft.Storage/storageAccounts/blobServices/containers").ToList();
        Assert.Contains(containers, c => Text(c.Body["copy"]?["count"]) == "[length(variables('hostContainerNames'))]");
    }

    [Fact]
    public async Task The_app_identity_cannot_write_its_own_deployment_package()
    {
        var main = await Bicep.CompiledMainAsync();
        const string packageScope = "[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', parameters('name'), 'default', variables('deploymentContainerName'))]";

        // The package container has one grant: the deployment identity, which the platform uses
        // to upload (azd, func, az publish) and to read the package; the app identity has none.
        var onPackage = RoleAssignments(main).Where(a => a.Scope == packageScope).ToList();
        var grant = Assert.Single(onPackage);
        Assert.Equal(BlobDataContributor, grant.RoleDefinitionId);
        Assert.Equal(DeploymentIdentity, grant.ModulePrincipalId);
        Assert.DoesNotContain(RoleAssignments(main), a => a.ModulePrincipalId == AppIdentity
            && a.RoleDefinitionId is BlobDataOwner or BlobDataContributor && !a.Scope.Contains("hostContainerNames"));

        var site = Assert.Single(Resources(main), r => r.Type == "Microsoft.Web/sites").Body;
        var authentication = site["properties"]!["functionAppConfig"]!["deployment"]!["storage"]!["authentication"]!;
        Assert.Contains("parameters('deploymentIdentityName')", Text(authentication["userAssignedIdentityResourceId"]));
        Assert.Contains("parameters('identityName')", Text(site["properties"]!["keyVaultReferenceIdentity"]));
        Assert.Contains("parameters('identityName')", AppSettings(main)["AzureWebJobsStorage__clientId"]);
    }

    private const string KeyVaultSecretsOfficer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
    private const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
    private const string KeyVaultAdministrator = "00482a5a-887f-4fb3-b363-3b7fe8e74483";
    private const string BlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string BlobDataReader = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
    private const string AppIdentity = "[reference('identity').outputs.principalId.value]";
    private const string DeploymentIdentity = "[reference('deploymentIdentity').outputs.principalId.value]";

    public static TheoryData<string, string, string> Roles => new()
    {
        { "Storage Table Data Contributor", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "Microsoft.Storage/storageAccounts" },
        { "Storage Queue Data Contributor", "974c5e8b-45b9-4653-ba55-5f855dd0fb88", "Microsoft.Storage/storageAccounts" },
        { "Azure Service Bus Data Sender", "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39", "Microsoft.ServiceBus/namespaces" },
        { "Azure Service Bus Data Receiver", "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0", "Microsoft.ServiceBus/namespaces" },
        { "Key Vault Secrets Officer", KeyVaultSecretsOfficer, "Microsoft.KeyVault/vaults" },
        { "Key Vault Secrets User", KeyVaultSecretsUser, "Microsoft.KeyVault/vaults/secrets" },
    };

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Grants_the_identity_a_role_on_its_resource_only(string role, string roleDefinitionId, string scopeType)
    {
        var assignment = Assert.Single(RoleAssignments(await Bicep.CompiledMainAsync()), a => a.RoleDefinitionId == roleDefinitionId);
        Assert.StartsWith(role, assignment.Description);
        Assert.StartsWith($"[resourceId('{scopeType}', parameters('name')", assignment.Scope);
        Assert.Equal("[parameters('principalId')]", assignment.PrincipalId);
        Assert.Equal("ServicePrincipal", assignment.PrincipalType);
        Assert.Equal("[reference('identity').outputs.principalId.value]", assignment.ModulePrincipalId);
    }

    [Fact]
    public async Task Grants_no_role_beyond_the_least_privilege_list()
    {
        var granted = RoleAssignments(await Bicep.CompiledMainAsync()).Select(a => a.RoleDefinitionId).Order().ToList();
        // Blob Data Contributor twice: the host containers (one loop) and the package container.
        var expected = Roles.Select(row => (string)row[1]).Append(BlobDataContributor).Append(BlobDataContributor).Order().ToList();
        Assert.Equal(expected, granted);
    }

    [Fact]
    public async Task Wires_every_configuration_key_of_the_handler_and_the_host()
    {
        var settings = AppSettings(await Bicep.CompiledMainAsync());
        var expected = new[]
        {
            "Storage__TableServiceUri", "Storage__QueueServiceUri", "Secrets__Backend", "Secrets__KeyVaultUri",
            "Queues__Backend", "Queues__ServiceBusNamespace", "ManagedIdentity__ClientId", "Sso__PublicBaseUrl",
            "Admin__ApiKeyHashes", "APPLICATIONINSIGHTS_CONNECTION_STRING",
            "ServiceBusConnection__fullyQualifiedNamespace", "ServiceBusConnection__credential", "ServiceBusConnection__clientId",
            "AzureWebJobsStorage__credential", "AzureWebJobsStorage__clientId", "AzureWebJobsStorage__blobServiceUri",
            "AzureWebJobsStorage__queueServiceUri", "AzureWebJobsStorage__tableServiceUri",
        };
        Assert.All(expected, key => Assert.True(settings.ContainsKey(key), $"no app setting {key}"));

        Assert.Equal("keyvault", settings["Secrets__Backend"]);
        Assert.Equal("servicebus", settings["Queues__Backend"]);
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("managedidentity", settings["ServiceBusConnection__credential"]);
        Assert.StartsWith("[format('@Microsoft.KeyVault(", settings["Admin__ApiKeyHashes"]);
        Assert.Contains("primaryEndpoints.table", settings["Storage__TableServiceUri"]);
        Assert.Contains("primaryEndpoints.queue", settings["Storage__QueueServiceUri"]);
        Assert.Contains("vaultUri", settings["Secrets__KeyVaultUri"]);
        Assert.Contains("userAssignedIdentities", settings["ManagedIdentity__ClientId"]);
        Assert.Contains("serviceBusEndpoint", settings["ServiceBusConnection__fullyQualifiedNamespace"]);
        Assert.Equal(settings["Queues__ServiceBusNamespace"], settings["ServiceBusConnection__fullyQualifiedNamespace"]);
        // The trigger bindings name this connection; the settings must use the same prefix.
        Assert.StartsWith(FunctionJsonWriter.ServiceBusConnection + "__", "ServiceBusConnection__fullyQualifiedNamespace");
    }

    [Fact]
    public async Task Sets_no_connection_string_or_key_for_storage_or_service_bus()
    {
        var settings = AppSettings(await Bicep.CompiledMainAsync());
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.DoesNotContain(settings, s => s.Key.Contains("ConnectionString", StringComparison.OrdinalIgnoreCase)
            && s.Key != "APPLICATIONINSIGHTS_CONNECTION_STRING");
        Assert.DoesNotContain(settings.Values, v => v.Contains("listKeys", StringComparison.OrdinalIgnoreCase));
        // Flex Consumption sets the worker runtime from functionAppConfig and refuses the setting.
        Assert.DoesNotContain("FUNCTIONS_WORKER_RUNTIME", settings.Keys);
    }

    private sealed record RoleAssignment(
        string Module, string RoleDefinitionId, string Description, string Scope, string PrincipalId, string PrincipalType, string ModulePrincipalId);

    private static List<RoleAssignment> RoleAssignments(JsonObject main)
    {
        var modules = Resources(main).Where(r => r.Type == "Microsoft.Resources/deployments")
            .ToDictionary(r => r.Body["name"]!.GetValue<string>(), r => r.Body);
        return Resources(main).Where(r => r.Type == "Microsoft.Authorization/roleAssignments").Select(r =>
        {
            var properties = r.Body["properties"]!;
            var roleId = RoleGuid().Match(properties["roleDefinitionId"]!.GetValue<string>());
            Assert.True(roleId.Success, "role definition id is not a literal GUID: " + properties["roleDefinitionId"]);
            return new RoleAssignment(
                r.Module,
                roleId.Groups[1].Value,
                properties["description"]?.GetValue<string>() ?? "",
                r.Body["scope"]?.GetValue<string>() ?? "",
                properties["principalId"]!.GetValue<string>(),
                properties["principalType"]!.GetValue<string>(),
                modules[r.Module]["properties"]!["parameters"]![PrincipalParameter(properties["principalId"]!.GetValue<string>())]!["value"]!.GetValue<string>());
        }).ToList();
    }

    /// <summary>A module of main.bicep by its symbolic name (its deployment name is format('name-…')).</summary>
    private static JsonObject Module(JsonObject main, string name) =>
        Assert.Single(Resources(main), r => r.Module == "main" && r.Type == "Microsoft.Resources/deployments"
            && r.Body["name"]!.GetValue<string>().StartsWith($"[format('{name}-{{0}}'", StringComparison.Ordinal)).Body;

    private static string PrincipalParameter(string expression)
    {
        var match = Regex.Match(expression, @"^\[parameters\('([A-Za-z]+)'\)\]$");
        Assert.True(match.Success, "principalId is not a module parameter: " + expression);
        return match.Groups[1].Value;
    }

    private static Dictionary<string, string> AppSettings(JsonObject main)
    {
        var config = Assert.Single(Resources(main), r => r.Type == "Microsoft.Web/sites/config"
            && r.Body["name"]!.GetValue<string>().Contains("'appsettings'")).Body;
        return config["properties"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
    }

    [GeneratedRegex(@"^\[subscriptionResourceId\('Microsoft.Authorization/roleDefinitions', '([0-9a-f-]{36})'\)\]$")]
    private static partial Regex RoleGuid();
}
