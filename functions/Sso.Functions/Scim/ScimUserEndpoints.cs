using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Protocols.Scim;
using Sso.Protocols.Scim.Filter;
using Sso.Protocols.Scim.Patch;

namespace Sso.Functions.Scim;

/// <summary>/Users (RFC 7644 §3), as Entra ID, Okta, Google, OneLogin and JumpCloud drive it.</summary>
public static class ScimUserEndpoints
{
    public const int MaxResults = 200;
    private const string Base = ScimDiscoveryEndpoints.Base;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ScimListUsers", Base + "/Users", ["GET"], ScimAuthentication.Require(ListAsync)),
        new("ScimCreateUser", Base + "/Users", ["POST"], ScimAuthentication.Require(CreateAsync)),
        new("ScimGetUser", Base + "/Users/{userId}", ["GET"], ScimAuthentication.Require(GetAsync)),
        new("ScimReplaceUser", Base + "/Users/{userId}", ["PUT"], ScimAuthentication.Require(ReplaceAsync)),
        new("ScimPatchUser", Base + "/Users/{userId}", ["PATCH"], ScimAuthentication.Require(PatchAsync)),
        new("ScimDeleteUser", Base + "/Users/{userId}", ["DELETE"], ScimAuthentication.Require(DeleteAsync)),
    ];

    /// <summary>The SCIM User; <paramref name="groups"/> (read-only, never stored in the resource) when the response shows them.</summary>
    public static JsonObject Render(DirectoryUser user, string baseUrl, JsonArray? groups = null)
    {
        var json = new JsonObject { ["schemas"] = user.Resource["schemas"]?.DeepClone(), ["id"] = user.Id };
        foreach (var (key, value) in user.Resource)
            if (key is not "schemas" and not "groups") json[key] = value?.DeepClone();
        if (groups is not null) json["groups"] = groups;
        json["meta"] = ScimRequests.Meta("User", user.Created, user.LastModified, $"{baseUrl}/Users/{user.Id}", user.Version);
        return json;
    }

    private static DirectoryGroupStore Groups(HttpContext context) => context.RequestServices.GetRequiredService<DirectoryGroupStore>();

    private static string ETag(DirectoryUser user) => ScimETag.Format(user.Version);

    /// <summary>
    /// The user as a response, with its groups unless the projection leaves them out; a user just
    /// created is in no group yet (nobody knew its id), so that read is skipped.
    /// </summary>
    private static async Task<IResult> RespondAsync(DirectoryGroupStore store, DirectoryUser user, ScimRequestContext scim, ScimAttributeProjection projection,
        CancellationToken cancellationToken, int status = 200)
    {
        JsonArray? groups = null;
        if (projection.Includes(ScimSchemas.UserResource, "groups"))
            groups = status == 201 ? [] : await new ScimUserGroups(store, scim.Directory.Id, scim.BaseUrl).OfAsync(user.Id, cancellationToken);
        var body = projection.Apply(Render(user, scim.BaseUrl, groups), ScimSchemas.UserResource);
        return ScimResults.Json(body, status, ETag(user), status == 201 ? $"{scim.BaseUrl}/Users/{user.Id}" : null);
    }

    /// <summary>RFC 7644 §3.9: <c>attributes</c> / <c>excludedAttributes</c> apply to every response that returns a resource.</summary>
    private static Sso.Protocols.Result<ScimAttributeProjection, ScimError> Projection(HttpContext context) =>
        ScimAttributeProjection.Parse(context.Request.Query["attributes"], context.Request.Query["excludedAttributes"]);

    private static async Task<DirectoryUser?> FindLiveAsync(DirectoryUserStore store, ScimRequestContext scim, string userId, CancellationToken cancellationToken) =>
        await store.FindUserAsync(scim.Directory.Id, userId, cancellationToken) is { Deleted: false } user ? user : null;

    private static ScimError? Validate(JsonObject resource) =>
        ScimRequests.CheckLength(resource, "userName", 256) ?? ScimRequests.CheckLength(resource, "externalId", 256) ?? ScimRequests.CheckSize(resource)
        ?? (TableKey.FitsInKey(DirectoryUserStore.UserNameKey(resource["userName"]!.GetValue<string>()))
            && (resource["externalId"] is not JsonValue externalId || TableKey.FitsInKey(DirectoryUserStore.ExternalIdKey(externalId.GetValue<string>())))
                ? null
                : ScimError.InvalidValue("'userName' or 'externalId' is too long once encoded; use at most 256 plain characters."));

    private static Sso.Protocols.Result<JsonObject, ScimError> ChangedAndValid(Func<JsonObject, Sso.Protocols.Result<JsonObject, ScimError>> change,
        JsonObject current)
    {
        var changed = change(current);
        return changed.IsSuccess && Validate(changed.Value) is { } invalid ? invalid : changed;
    }

    private static DirectoryChanges Changes(HttpContext context) => context.RequestServices.GetRequiredService<DirectoryChanges>();

    private static async Task<IResult> CreateAsync(HttpContext context, ScimRequestContext scim)
    {
        var projection = Projection(context);
        if (!projection.IsSuccess) return ScimResults.Error(projection.Error);
        var body = await ScimRequests.ReadBodyAsync(context);
        if (!body.IsSuccess) return ScimResults.Error(body.Error);
        var resource = ScimUserReader.Read(body.Value);
        if (!resource.IsSuccess) return ScimResults.Error(resource.Error);
        if (Validate(resource.Value) is { } invalid) return ScimResults.Error(invalid);

        var created = await Changes(context).CreateUserAsync(scim.Directory, resource.Value, context.RequestAborted);
        return created.IsSuccess
            ? await RespondAsync(Groups(context), created.Value, scim, projection.Value, context.RequestAborted, 201)
            : ScimResults.Error(ScimError.Uniqueness(created.Error));
    }

    private static async Task<IResult> GetAsync(HttpContext context, ScimRequestContext scim)
    {
        var projection = Projection(context);
        if (!projection.IsSuccess) return ScimResults.Error(projection.Error);
        var store = context.RequestServices.GetRequiredService<DirectoryUserStore>();
        var userId = context.RouteString("userId");
        if (await FindLiveAsync(store, scim, userId, context.RequestAborted) is not { } user) return ScimResults.Error(ScimError.NotFound(userId));
        if (ScimRequests.MatchesIfNoneMatch(context, ETag(user))) return ScimResults.NotModified(ETag(user));
        return await RespondAsync(Groups(context), user, scim, projection.Value, context.RequestAborted);
    }

    private static async Task<IResult> ListAsync(HttpContext context, ScimRequestContext scim)
    {
        var query = ScimListQuery.Parse(context.Request.Query["filter"], context.Request.Query["startIndex"], context.Request.Query["count"],
            context.Request.Query["attributes"], context.Request.Query["excludedAttributes"], MaxResults);
        if (!query.IsSuccess) return ScimResults.Error(query.Error);
        var store = context.RequestServices.GetRequiredService<DirectoryUserStore>();
        var filter = query.Value.Filter;
        var type = ScimSchemas.UserResource;

        var userGroups = new ScimUserGroups(Groups(context), scim.Directory.Id, scim.BaseUrl);
        IAsyncEnumerable<DirectoryUser> candidates;
        var scansUsers = true;
        if (filter is not null && ScimPointLookup.Find(filter, type) is { AttributeName: not "displayName" } lookup)
        {
            // userName / externalId / id: the IdPs' lookup before every create, answered from one index row
            // (userName: the row carries the user, and whether a groups read is needed at all).
            DirectoryUser? found;
            if (lookup.AttributeName == "userName")
            {
                var byName = await store.FindUserByUserNameAsync(scim.Directory.Id, lookup.Value, context.RequestAborted);
                found = byName?.User;
                if (byName is { InGroups: false }) userGroups.KnowsNone(byName.User.Id);
            }
            else
            {
                found = lookup.AttributeName == "externalId"
                    ? await store.FindUserByIndexAsync(scim.Directory.Id, DirectoryUserStore.ExternalIdKey(lookup.Value), context.RequestAborted)
                    : await store.FindUserAsync(scim.Directory.Id, lookup.Value, context.RequestAborted);
            }
            candidates = found is { Deleted: false } ? One(found) : None<DirectoryUser>();
            scansUsers = false;
        }
        else
        {
            candidates = store.QueryUsersAsync(scim.Directory.Id, includeDeleted: false, context.RequestAborted);
        }

        // groups are read only for the users on the page, unless the filter itself looks at them:
        // then every membership of the directory is read once instead of once per user.
        var filterNeedsGroups = filter is not null && filter.Mentions("groups");
        if (filterNeedsGroups && scansUsers) await userGroups.LoadAllAsync(context.RequestAborted);
        var withGroups = query.Value.Projection.Includes(type, "groups");
        var page = new List<JsonNode>();
        var total = 0;
        await foreach (var user in candidates)
        {
            var groups = filterNeedsGroups ? await userGroups.OfAsync(user.Id, context.RequestAborted) : null;
            var rendered = Render(user, scim.BaseUrl, groups);
            if (filter is not null && !ScimFilterEvaluator.Matches(filter, rendered, type)) continue;
            total++;
            if (total < query.Value.StartIndex || page.Count >= query.Value.Count) continue;
            if (withGroups && groups is null) rendered = Render(user, scim.BaseUrl, await userGroups.OfAsync(user.Id, context.RequestAborted));
            page.Add(query.Value.Projection.Apply(rendered, type));
        }
        return ScimResults.Json(ScimSchemas.RenderListResponse(page, total, query.Value.StartIndex));
    }

    private static async IAsyncEnumerable<T> One<T>(T item)
    {
        await Task.CompletedTask;
        yield return item;
    }

    private static async IAsyncEnumerable<T> None<T>()
    {
        await Task.CompletedTask;
        yield break;
    }

    private static Task<IResult> ReplaceAsync(HttpContext context, ScimRequestContext scim) =>
        UpdateAsync(context, scim, async () =>
        {
            var body = await ScimRequests.ReadBodyAsync(context);
            if (!body.IsSuccess) return body.Error;
            var resource = ScimUserReader.Read(body.Value);
            return resource.IsSuccess ? new Func<JsonObject, Sso.Protocols.Result<JsonObject, ScimError>>(_ => resource.Value) : resource.Error;
        });

    private static Task<IResult> PatchAsync(HttpContext context, ScimRequestContext scim) =>
        UpdateAsync(context, scim, async () =>
        {
            var body = await ScimRequests.ReadBodyAsync(context);
            if (!body.IsSuccess) return body.Error;
            var patch = ScimPatchRequest.Parse(body.Value);
            if (!patch.IsSuccess) return patch.Error;
            return new Func<JsonObject, Sso.Protocols.Result<JsonObject, ScimError>>(current =>
            {
                // The engine sees the resource as SCIM does (with id), so read-only checks apply to id too.
                var withId = current.DeepClone().AsObject();
                withId["id"] = context.RouteString("userId");
                var patched = ScimPatchEngine.Apply(withId, patch.Value, ScimSchemas.UserResource);
                if (!patched.IsSuccess) return patched.Error;
                patched.Value.Remove("id");
                return patched.Value;
            });
        });

    /// <summary>PUT and PATCH: read, change, save under the row's ETag, and retry when another writer won.</summary>
    private static async Task<IResult> UpdateAsync(HttpContext context, ScimRequestContext scim,
        Func<Task<Sso.Protocols.Result<Func<JsonObject, Sso.Protocols.Result<JsonObject, ScimError>>, ScimError>>> prepare)
    {
        var projection = Projection(context);
        if (!projection.IsSuccess) return ScimResults.Error(projection.Error);
        var change = await prepare();
        if (!change.IsSuccess) return ScimResults.Error(change.Error);
        var userId = context.RouteString("userId");
        var settings = await RoleChanges.SettingsAsync(context.RequestServices.GetRequiredService<TenantStore>(), scim.Directory, context.RequestAborted, cached: true);
        var result = await Changes(context).UpdateUserAsync(scim.Directory, settings, userId, before => !ScimRequests.FailsIfMatch(context, ETag(before)),
            current => ChangedAndValid(change.Value, current),
            ScimRequests.Retry, context.RequestAborted);
        return result.Status switch
        {
            DirectoryChanges.ChangeStatus.Done or DirectoryChanges.ChangeStatus.Unchanged =>
                await RespondAsync(Groups(context), result.User!, scim, projection.Value, context.RequestAborted),
            DirectoryChanges.ChangeStatus.NotFound => ScimResults.Error(ScimError.NotFound(userId)),
            DirectoryChanges.ChangeStatus.PreconditionFailed => ScimResults.Error(ScimError.PreconditionFailed()),
            DirectoryChanges.ChangeStatus.Invalid => ScimResults.Error(result.Error!),
            DirectoryChanges.ChangeStatus.Taken => ScimResults.Error(ScimError.Uniqueness(result.TakenAttribute!)),
            _ => ScimResults.Error(ScimError.Conflict("The user kept changing while the request was applied; retry it.")),
        };
    }

    private static async Task<IResult> DeleteAsync(HttpContext context, ScimRequestContext scim)
    {
        var userId = context.RouteString("userId");
        // OneLogin can be set to DELETE users instead of deactivating them; both paths deprovision.
        return await Changes(context).DeprovisionUserAsync(scim.Directory, userId, "deleted", before => !ScimRequests.FailsIfMatch(context, ETag(before)),
                ScimRequests.Retry, context.RequestAborted) switch
            {
                DirectoryChanges.ChangeStatus.Done => ScimResults.NoContent(),
                DirectoryChanges.ChangeStatus.NotFound => ScimResults.Error(ScimError.NotFound(userId)),
                DirectoryChanges.ChangeStatus.PreconditionFailed => ScimResults.Error(ScimError.PreconditionFailed()),
                _ => ScimResults.Error(ScimError.Conflict("The user kept changing while it was deleted; retry the request.")),
            };
    }
}
