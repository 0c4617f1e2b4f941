using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Testing;

namespace Sso.Functions.Tests.Audit;

/// <summary>Reads a tenant's (or the global) audit trail through the API, and the raw stored rows.</summary>
public static class AuditTestRows
{
    /// <summary>The id the audit trail names the test admin key by: a prefix of its SHA-256.</summary>
    public static string AdminKeyId =>
        "key_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(SsoAppFactory.AdminKey)))[..12];

    public static async Task<List<JsonObject>> ReadAllAsync(SsoAppFactory app, string? tenantId, string? type = null)
    {
        await app.FlushAsync();
        var admin = app.CreateAdminClient();
        var rows = new List<JsonObject>();
        string? cursor = null;
        do
        {
            var url = (tenantId is null ? "/api/v1/audit" : $"/api/v1/tenants/{tenantId}/audit") + "?limit=200"
                      + (type is null ? "" : "&type=" + type) + (cursor is null ? "" : "&after=" + cursor);
            var response = await admin.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            var page = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            rows.AddRange(page["data"]!.AsArray().Select(r => r!.AsObject()));
            cursor = page["nextCursor"]?.GetValue<string>();
        } while (cursor is not null);
        return rows;
    }

    public static JsonObject Single(IEnumerable<JsonObject> rows, string action, string? targetId = null)
    {
        var matches = rows.Where(r => r["action"]?.GetValue<string>() == action
                                      && (targetId is null || r["target"]?["id"]?.GetValue<string>() == targetId)).ToList();
        Assert.True(matches.Count == 1, $"{matches.Count} rows for {action} {targetId}: {string.Join("\n", rows.Select(r => r.ToJsonString()))}");
        return matches[0];
    }

    public static string[] ChangedFields(JsonObject row) =>
        row["changedFields"]!.AsArray().Select(f => f!.GetValue<string>()).ToArray();

    /// <summary>Every stored audit row, every property, as one string: what a secret must never be part of.</summary>
    public static string EverythingStored(SsoAppFactory app)
    {
        app.FlushAsync().GetAwaiter().GetResult();
        var table = new TableClient(app.Azurite.ConnectionString, app.TablePrefix + "audit");
        table.CreateIfNotExists();
        var text = new StringBuilder();
        foreach (var entity in table.Query<TableEntity>())
            foreach (var (key, value) in entity)
                text.Append(key).Append('=').Append(value).Append('\n');
        return text.ToString();
    }
}
