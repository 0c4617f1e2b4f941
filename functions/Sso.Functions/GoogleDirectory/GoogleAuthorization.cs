using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.WebUtilities;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Secrets;
using Sso.Protocols;
using Sso.Protocols.OAuth;

namespace Sso.Functions.GoogleDirectory;

/// <summary>
/// The customer's Google admin grants read-only Directory API access: the authorization URL (PKCE
/// S256, offline access, a single-use <c>state</c>) and <c>GET /google/callback</c>, which redeems the
/// code and keeps the refresh token in the secret store only. The <c>state</c> is
/// <c>directoryId.random</c>; the directory's partition holds only its hash, with the PKCE verifier,
/// for <see cref="Lifetime"/>. A state never redeemed (the admin closed the tab) is deleted after it
/// expires by <see cref="SweepExpiredAsync"/>, which finds it through its row in
/// <see cref="ExpiryIndexPartition"/> (ordered by expiry) instead of scanning the directories.
/// </summary>
public sealed partial class GoogleAuthorization(
    GoogleOptions options, SsoOptions sso, DirectoryRecordStore directories, DirectorySyncStore store, ISecretStore secrets, GoogleApi google, TimeProvider clock,
    ILogger<GoogleAuthorization> logger) : IDirectoryAuthorization
{
    public const string CallbackRoute = "/google/callback";
    public const string PendingKind = "googleAuth";
    public const string AuthorizationRequiredEvent = "dsync.directory.authorization_required";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(30);

    /// <summary>One row per issued state, <c>expiresAt|directoryId|hash</c>: the sweep reads the expired ones as one range.</summary>
    public const string ExpiryIndexPartition = DirectorySyncStore.PendingAuthorizationExpiryPartition;

    public string Provider => DirectoryProviders.GoogleDirectory;

    public string? Unavailable => options.IsConfigured
        ? null
        : "Google Workspace directories need the service's Google OAuth client: set Google:ClientId and Google:ClientSecret.";

    public static string RefreshTokenSecretName(DirectoryId id) => DirectorySyncState.RefreshTokenSecretName(id);

    public string RedirectUri => sso.Url(CallbackRoute);

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("GoogleDirectoryCallback", CallbackRoute, ["GET"], CallbackAsync),
        new("GoogleDirectoryAuthorize", "/api/v1/directories/{directoryId}/authorize", ["POST"], AdminApi.Require(ReauthorizeAsync)),
    ];

    private static string Hash(string state) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(state)));

    /// <summary>The row key of a state's row in its directory's partition (only the state's hash is stored).</summary>
    public static string PendingRowKey(string state) => TableKey.Row(PendingKind, Hash(state));


    private static string Random() => Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async Task<string> StartAsync(DirectoryRecord directory, CancellationToken cancellationToken)
    {
        var state = directory.Id.Value + "." + Random();
        var verifier = Random();
        await store.AddPendingAuthorizationAsync(directory.Id, PendingRowKey(state),
            new DirectorySyncStore.PendingAuthorization(verifier, clock.GetUtcNow() + Lifetime), cancellationToken);
        return QueryHelpers.AddQueryString(options.AuthorizeUrl.ToString(), new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = options.ClientId ?? "",
            ["redirect_uri"] = RedirectUri,
            ["scope"] = string.Join(' ', GoogleApi.UserScope, GoogleApi.GroupScope, GoogleApi.MemberScope),
            ["access_type"] = "offline",
            ["prompt"] = "consent",
            ["include_granted_scopes"] = "false",
            ["state"] = state,
            ["code_challenge"] = Pkce.ChallengeOf(verifier),
            ["code_challenge_method"] = Pkce.S256,
        });
    }

    /// <summary>The state's verifier, consumed: the row is deleted under its ETag, so a second use finds nothing.</summary>
    private async Task<(DirectoryId Directory, string Verifier)?> ConsumeAsync(string state, CancellationToken cancellationToken)
    {
        var dot = state.IndexOf('.');
        if (dot <= 0 || !DirectoryId.TryParse(state[..dot], out var directoryId) || state.Length > 200) return null;
        if (await store.TakePendingAuthorizationAsync(directoryId, PendingRowKey(state), cancellationToken) is not { } pending)
            return null;
        return pending.ExpiresAt is { } expiresAt && clock.GetUtcNow() < expiresAt ? (directoryId, pending.Verifier) : null;
    }

    private static Task<IResult> CallbackAsync(HttpContext context) =>
        context.RequestServices.GetRequiredService<GoogleAuthorization>().CallbackAsync(context, context.RequestAborted);

    private async Task<IResult> CallbackAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var query = context.Request.Query;
        var state = query["state"].ToString();
        if (query["state"].Count != 1 || await ConsumeAsync(state, cancellationToken) is not var (directoryId, verifier))
            return HtmlPages.Error(400, "Authorization failed",
                "This authorization link has expired or was already used. Start the authorization again from the setup page.");
        context.Items[RequestPipeline.TenantItem] = (await directories.FindDirectoryAsync(directoryId, cancellationToken))?.TenantId.Value;
        if (query["error"].Count > 0 || query["code"].ToString() is not { Length: > 0 and <= 2048 } code)
            return HtmlPages.Error(400, "Authorization failed",
                "Google did not grant access (the administrator declined, or the account is not a Google Workspace administrator). Start again.");

        var answer = await google.RedeemCodeAsync(code, verifier, RedirectUri, cancellationToken);
        if (answer.Outcome != GoogleOutcome.Ok || answer.Body?["refresh_token"] is not JsonValue refresh || refresh.GetValueKind() != JsonValueKind.String)
        {
            LogRedeemFailed(logger, directoryId.Value, answer.Detail);
            return HtmlPages.Error(502, "Authorization failed",
                "Google did not give this service offline access. Start the authorization again; if it keeps failing, tell the application's support.");
        }
        await secrets.SetAsync(RefreshTokenSecretName(directoryId), refresh.GetValue<string>(), cancellationToken);
        if (!await SetStateAsync(directoryId, DirectorySyncState.Connected, null, cancellationToken))
            return HtmlPages.Error(404, "Authorization failed", "This directory no longer exists.");
        await context.RequestServices.GetRequiredService<GoogleSync>().StartAsync(directoryId, cancellationToken);
        return HtmlPages.Html(200, HtmlPages.Document("Google Workspace is connected",
            "<p>The application now reads your users and groups from Google Workspace (read only). You can close this page.</p>"));
    }

    /// <summary>
    /// Deletes the states that expired unredeemed (and the index rows of those redeemed): one range
    /// read of <see cref="ExpiryIndexPartition"/> up to now, then the rows. Run by the sync timer.
    /// </summary>
    public Task<int> SweepExpiredAsync(CancellationToken cancellationToken) =>
        store.SweepExpiredPendingAuthorizationsAsync(clock.GetUtcNow(), cancellationToken);

    /// <summary>
    /// The re-authorize operation, for the management API and the console alike (no HTTP): a fresh
    /// authorization URL for a Google Workspace directory, whatever its state.
    /// </summary>
    public async Task<Result<Reauthorization, Problem>> ReauthorizeAsync(DirectoryId directoryId, CancellationToken cancellationToken)
    {
        if (await directories.FindDirectoryAsync(directoryId, cancellationToken) is not { } directory || directory.Provider != DirectoryProviders.GoogleDirectory)
            return Problem.NotFound("directory", directoryId.Value);
        return new Reauthorization(directory, await StartAsync(directory, cancellationToken));
    }

    /// <summary>Moves the directory's state; <paramref name="authorizationRequired"/> is the event that commits with it.</summary>
    public async Task<bool> SetStateAsync(DirectoryId directoryId, string state, EventRecord? authorizationRequired, CancellationToken cancellationToken,
        Func<DirectorySyncState, DirectorySyncState>? also = null)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await store.FindSyncStateAsync(directoryId, cancellationToken) is not { } before) return false;
            var after = before with { State = state };
            if (also is not null) after = also(after);
            if (await store.SaveSyncStateAsync(before, after, authorizationRequired is null ? [] : [authorizationRequired], cancellationToken)
                == SaveOutcome.Saved)
                return true;
        }
        throw new InvalidOperationException("The directory's sync state kept changing; retry.");
    }

    /// <summary><c>POST /api/v1/directories/{id}/authorize</c>: a fresh authorization URL, for the re-authorize button.</summary>
    private static async Task<IResult> ReauthorizeAsync(HttpContext context)
    {
        var directoryId = context.RouteString("directoryId");
        if (!DirectoryId.TryParse(directoryId, out var id)) return ProblemResults.Write(Problem.NotFound("directory", directoryId));
        var started = await context.RequestServices.GetRequiredService<GoogleAuthorization>().ReauthorizeAsync(id, context.RequestAborted);
        if (!started.TryGetValue(out var reauthorization, out var problem)) return ProblemResults.Write(problem);
        context.Items[RequestPipeline.TenantItem] = reauthorization.Directory.TenantId.Value;
        return DirectoryEndpoints.Json(new JsonObject { ["authorizeUrl"] = reauthorization.AuthorizeUrl });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Google refused the authorization code of directory {DirectoryId}: {Detail}")]
    private static partial void LogRedeemFailed(ILogger logger, string directoryId, string detail);
}

/// <summary>A fresh authorization of a Google Workspace directory: the URL its Google admin opens.</summary>
public sealed record Reauthorization(DirectoryRecord Directory, string AuthorizeUrl);
