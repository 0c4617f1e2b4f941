using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Protocols;
using Sso.Protocols.Scim;
using Sso.Protocols.Scim.Filter;
using Sso.Protocols.Scim.Patch;

namespace Sso.Functions.Scim;

/// <summary>
/// /Groups: SCIM in and out. The group changes themselves, and their retries when another writer
/// won, are <see cref="DirectoryGroupChanges"/>'s; a PATCH becomes a membership delta (<see cref="ScimGroupPatch"/>).
/// </summary>
public static class ScimGroupEndpoints
{
    private const string Base = ScimDiscoveryEndpoints.Base;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ScimListGroups", Base + "/Groups", ["GET"], ScimAuthentication.Require(ListAsync)),
        new("ScimCreateGroup", Base + "/Groups", ["POST"], ScimAuthentication.Require(CreateAsync)),
        new("ScimGetGroup", Base + "/Groups/{groupId}", ["GET"], ScimAuthentication.Require(GetAsync)),
        new("ScimReplaceGroup", Base + "/Groups/{groupId}", ["PUT"], ScimAuthentication.Require(ReplaceAsync)),
        new("ScimPatchGroup", Base + "/Groups/{groupId}", ["PATCH"], ScimAuthentication.Require(PatchAsync)),
        new("ScimDeleteGroup", Base + "/Groups/{groupId}", ["DELETE"], ScimAuthentication.Require(DeleteAsync)),
    ];

    private static DirectoryChanges Changes(HttpContext context) => context.RequestServices.GetRequiredService<DirectoryChanges>();

    private static DirectoryGroupChanges GroupChanges(HttpContext context) => context.RequestServices.GetRequiredService<DirectoryGroupChanges>();

    private static DirectoryGroupStore Groups(HttpContext context) => context.RequestServices.GetRequiredService<DirectoryGroupStore>();

    private static string ETag(DirectoryGroup group) => ScimETag.Format(group.VersionTag);

    public static JsonObject Render(DirectoryGroup group, IReadOnlyList<Membership>? members, string baseUrl)
    {
        var json = new JsonObject { ["schemas"] = new JsonArray(JsonValue.Create(ScimSchemas.Group)), ["id"] = group.Id };
        foreach (var (key, value) in group.Resource)
            if (key is not "schemas" and not "members") json[key] = value?.DeepClone();
        if (members is not null)
            json["members"] = new JsonArray(members.Select(m =>
            {
                var member = new JsonObject { ["value"] = m.MemberId };
                if (m.MemberUserName is not null) member["display"] = m.MemberUserName;
                var isGroup = m.MemberId.StartsWith(DirectoryGroup.IdPrefix, StringComparison.Ordinal);
                member["$ref"] = $"{baseUrl}/{(isGroup ? "Groups" : "Users")}/{m.MemberId}";
                member["type"] = isGroup ? "Group" : "User";
                return (JsonNode)member;
            }).ToArray());
        json["meta"] = ScimRequests.Meta("Group", group.Created, group.LastModified, $"{baseUrl}/Groups/{group.Id}", ETag(group));
        return json;
    }

    private static async Task<IResult> RespondAsync(DirectoryGroupStore store, DirectoryGroup group, ScimRequestContext scim,
        ScimAttributeProjection projection, int status, CancellationToken cancellationToken)
    {
        // Entra ID reads groups with excludedAttributes=members: then the member rows are not read at all.
        var members = projection.Includes(ScimSchemas.GroupResource, "members")
            ? await store.ListMembersAsync(scim.Directory.Id, group.Id, cancellationToken)
            : null;
        var body = projection.Apply(Render(group, members, scim.BaseUrl), ScimSchemas.GroupResource);
        return ScimResults.Json(body, status, ETag(group), status == 201 ? $"{scim.BaseUrl}/Groups/{group.Id}" : null);
    }

    /// <summary>The group's attributes as stored: the SCIM resource without id, meta and members.</summary>
    private static JsonObject Attributes(JsonObject resource)
    {
        var attributes = resource.DeepClone().AsObject();
        attributes.Remove("members");
        attributes.Remove("id");
        attributes.Remove("meta");
        return attributes;
    }

    private static ScimError? Validate(JsonObject attributes) =>
        ScimRequests.CheckLength(attributes, "displayName", 256) ?? ScimRequests.CheckLength(attributes, "externalId", 256) ?? ScimRequests.CheckSize(attributes);

    private static ScimError UnknownMembers(IReadOnlyList<string> missing) =>
        ScimError.InvalidValue($"Members must be users or groups of this directory; unknown: {string.Join(", ", missing.Take(5))}.");

    /// <summary>A group as POST and PUT send it: its attributes as stored, and its member ids.</summary>
    private sealed record GroupBody(JsonObject Attributes, IReadOnlyList<string> MemberIds);

    private static async Task<Result<GroupBody, ScimError>> ReadGroupAsync(HttpContext context)
    {
        var body = await ScimRequests.ReadBodyAsync(context);
        if (!body.IsSuccess) return body.Error;
        var resource = ScimGroupReader.Read(body.Value);
        if (!resource.IsSuccess) return resource.Error;
        var memberIds = ScimGroupPatch.MemberIds(resource.Value["members"]);
        if (!memberIds.IsSuccess) return memberIds.Error;
        return new GroupBody(Attributes(resource.Value), memberIds.Value);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, ScimRequestContext scim)
    {
        var read = await ReadGroupAsync(context);
        if (!read.IsSuccess) return ScimResults.Error(read.Error);
        var (attributes, memberIds) = read.Value;
        if (Validate(attributes) is { } invalid) return ScimResults.Error(invalid);

        var settings = await SettingsAsync(context, scim);
        var created = await GroupChanges(context).CreateAsync<ScimError>(scim.Directory, settings, attributes, memberIds, ScimRequests.Retry,
            context.RequestAborted);
        return created.Status switch
        {
            DirectoryGroupChanges.Status.Done =>
                await RespondAsync(Groups(context), created.Group!, scim, ScimAttributeProjection.Default, 201, context.RequestAborted),
            DirectoryGroupChanges.Status.UnknownMembers => ScimResults.Error(UnknownMembers(created.UnknownMembers!)),
            _ => ScimResults.Error(ScimError.Conflict("The members kept changing while the group was created; retry the request.")),
        };
    }

    private static async Task<IResult> GetAsync(HttpContext context, ScimRequestContext scim)
    {
        var projection = ScimAttributeProjection.Parse(context.Request.Query["attributes"], context.Request.Query["excludedAttributes"]);
        if (!projection.IsSuccess) return ScimResults.Error(projection.Error);
        var store = Groups(context);
        var groupId = context.RouteString("groupId");
        if (await store.FindGroupAsync(scim.Directory.Id, groupId, context.RequestAborted) is not { } group)
            return ScimResults.Error(ScimError.NotFound(groupId));
        if (ScimRequests.MatchesIfNoneMatch(context, ETag(group))) return ScimResults.NotModified(ETag(group));
        return await RespondAsync(store, group, scim, projection.Value, 200, context.RequestAborted);
    }

    private static bool Mentions(ScimFilter filter, string attribute) => filter switch
    {
        ScimFilter.Comparison c => string.Equals(c.Path.AttributeName, attribute, StringComparison.OrdinalIgnoreCase),
        ScimFilter.Present p => string.Equals(p.Path.AttributeName, attribute, StringComparison.OrdinalIgnoreCase),
        ScimFilter.ValuePath v => string.Equals(v.Path.AttributeName, attribute, StringComparison.OrdinalIgnoreCase),
        ScimFilter.And a => Mentions(a.Left, attribute) || Mentions(a.Right, attribute),
        ScimFilter.Or o => Mentions(o.Left, attribute) || Mentions(o.Right, attribute),
        ScimFilter.Not n => Mentions(n.Inner, attribute),
        _ => false,
    };

    private static async Task<IResult> ListAsync(HttpContext context, ScimRequestContext scim)
    {
        var query = ScimListQuery.Parse(context.Request.Query["filter"], context.Request.Query["startIndex"], context.Request.Query["count"],
            context.Request.Query["attributes"], context.Request.Query["excludedAttributes"], ScimUserEndpoints.MaxResults);
        if (!query.IsSuccess) return ScimResults.Error(query.Error);
        var store = Groups(context);
        var filter = query.Value.Filter;
        var type = ScimSchemas.GroupResource;

        IReadOnlyList<DirectoryGroup>? candidates = null;
        if (filter is not null && ScimPointLookup.Find(filter, type) is { } lookup)
        {
            if (lookup.AttributeName == "displayName")
                candidates = await store.FindGroupsByDisplayNameAsync(scim.Directory.Id, lookup.Value, context.RequestAborted);
            else if (lookup.AttributeName == "id")
                candidates = await store.FindGroupAsync(scim.Directory.Id, lookup.Value, context.RequestAborted) is { } byId ? [byId] : [];
        }
        if (candidates is null)
        {
            var all = new List<DirectoryGroup>();
            await foreach (var group in store.QueryGroupsAsync(scim.Directory.Id, context.RequestAborted)) all.Add(group);
            candidates = all;
        }

        var withMembers = query.Value.Projection.Includes(type, "members");
        var filterNeedsMembers = filter is not null && Mentions(filter, "members");
        var page = new List<JsonNode>();
        var total = 0;
        foreach (var group in candidates)
        {
            var members = filterNeedsMembers ? await store.ListMembersAsync(scim.Directory.Id, group.Id, context.RequestAborted) : null;
            if (filter is not null && !ScimFilterEvaluator.Matches(filter, Render(group, members, scim.BaseUrl), type)) continue;
            total++;
            if (total < query.Value.StartIndex || page.Count >= query.Value.Count) continue;
            if (withMembers && members is null) members = await store.ListMembersAsync(scim.Directory.Id, group.Id, context.RequestAborted);
            page.Add(query.Value.Projection.Apply(Render(group, withMembers ? members : null, scim.BaseUrl), type));
        }
        return ScimResults.Json(ScimSchemas.RenderListResponse(page, total, query.Value.StartIndex));
    }

    private static async Task<IResult> ReplaceAsync(HttpContext context, ScimRequestContext scim)
    {
        var group = await ReadGroupAsync(context);
        if (!group.IsSuccess) return ScimResults.Error(group.Error);
        // RFC 7644 §3.5.1: PUT replaces the whole group, members included.
        return await SaveAsync(context, scim, _ => group.Value.Attributes, ScimMembershipDelta.ReplaceWith(group.Value.MemberIds),
            ScimAttributeProjection.Default);
    }

    private static async Task<IResult> PatchAsync(HttpContext context, ScimRequestContext scim)
    {
        var body = await ScimRequests.ReadBodyAsync(context);
        if (!body.IsSuccess) return ScimResults.Error(body.Error);
        var patch = ScimPatchRequest.Parse(body.Value);
        if (!patch.IsSuccess) return ScimResults.Error(patch.Error);
        var split = ScimGroupPatch.Split(patch.Value);
        if (!split.IsSuccess) return ScimResults.Error(split.Error);
        // RFC 7644 §3.5.2: with 'attributes' (or 'excludedAttributes') the answer is 200 and the resource; without, 204.
        ScimAttributeProjection? respondWith = null;
        if (context.Request.Query.ContainsKey("attributes") || context.Request.Query.ContainsKey("excludedAttributes"))
        {
            var projection = ScimAttributeProjection.Parse(context.Request.Query["attributes"], context.Request.Query["excludedAttributes"]);
            if (!projection.IsSuccess) return ScimResults.Error(projection.Error);
            respondWith = projection.Value;
        }
        var groupId = context.RouteString("groupId");
        var attributeOperations = split.Value.Attributes;
        return await SaveAsync(context, scim, current =>
        {
            if (attributeOperations.Operations.Count == 0) return current;
            var withId = current.DeepClone().AsObject();
            withId["id"] = groupId;
            var patched = ScimPatchEngine.Apply(withId, attributeOperations, ScimSchemas.GroupResource);
            return patched.IsSuccess ? Attributes(patched.Value) : patched.Error;
        }, split.Value.Members, respondWith);
    }

    private static async Task<IResult> SaveAsync(HttpContext context, ScimRequestContext scim,
        Func<JsonObject, Result<JsonObject, ScimError>> changeAttributes, ScimMembershipDelta delta, ScimAttributeProjection? respondWith)
    {
        var groupId = context.RouteString("groupId");
        var settings = await SettingsAsync(context, scim);
        var change = await GroupChanges(context).ChangeAsync<ScimError>(scim.Directory, settings, groupId,
            group => !ScimRequests.FailsIfMatch(context, ETag(group)),
            current =>
            {
                var changed = changeAttributes(current);
                if (changed.IsSuccess && Validate(changed.Value) is { } invalid) return invalid;
                return changed;
            },
            delta, context.Request.Headers.IfMatch.Count > 0, ScimRequests.Retry, context.RequestAborted);
        return change.Status switch
        {
            DirectoryGroupChanges.Status.Done or DirectoryGroupChanges.Status.Unchanged => respondWith is { } view
                ? await RespondAsync(Groups(context), change.Group!, scim, view, 200, context.RequestAborted)
                : ScimResults.NoContent(ETag(change.Group!)),
            DirectoryGroupChanges.Status.NotFound => ScimResults.Error(ScimError.NotFound(groupId)),
            DirectoryGroupChanges.Status.PreconditionFailed => ScimResults.Error(ScimError.PreconditionFailed()),
            DirectoryGroupChanges.Status.Invalid => ScimResults.Error(change.Error!),
            DirectoryGroupChanges.Status.UnknownMembers => ScimResults.Error(UnknownMembers(change.UnknownMembers!)),
            _ => ScimResults.Error(ScimError.Conflict("The group kept changing while the request was applied; retry it.")),
        };
    }

    private static Task<TenantSettings> SettingsAsync(HttpContext context, ScimRequestContext scim) =>
        RoleChanges.SettingsAsync(context.RequestServices.GetRequiredService<TenantStore>(), scim.Directory, context.RequestAborted, cached: true);

    /// <summary>
    /// 204 at once: the group is tombstoned and <c>dsync.group.deleted</c> commits with it; the
    /// deleted event fans its membership removals (with their events and role changes) out as
    /// <c>group.remove-memberships</c> tasks, so a group of 10,000 members deletes as fast as an empty one.
    /// </summary>
    private static async Task<IResult> DeleteAsync(HttpContext context, ScimRequestContext scim)
    {
        var groupId = context.RouteString("groupId");
        return await Changes(context).DeleteGroupAsync(scim.Directory, groupId, group => !ScimRequests.FailsIfMatch(context, ETag(group)),
                ScimRequests.Retry, context.RequestAborted) switch
            {
                DirectoryChanges.ChangeStatus.Done => ScimResults.NoContent(),
                DirectoryChanges.ChangeStatus.NotFound => ScimResults.Error(ScimError.NotFound(groupId)),
                DirectoryChanges.ChangeStatus.PreconditionFailed => ScimResults.Error(ScimError.PreconditionFailed()),
                _ => ScimResults.Error(ScimError.Conflict("The group kept changing while it was deleted; retry the request.")),
            };
    }
}
