using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// Directories and their SCIM tokens, for the management API and the setup portal alike: typed
/// inputs, a <see cref="Problem"/> for what the caller got wrong, no HTTP.
/// </summary>
public sealed class DirectoryProvisioning(DirectoryRecordStore store, DirectorySyncStore syncStore, IEnumerable<IDirectoryAuthorization> authorizations,
    TimeProvider clock)
{
    public const int MaxTokensPerDirectory = 20;

    /// <summary>How far ahead a token may expire: five years, a span a security review still accepts.</summary>
    public static readonly TimeSpan MaxTokenLifetime = TimeSpan.FromDays(5 * 366);

    /// <summary>
    /// A new directory of <paramref name="tenantId"/> with its first SCIM token, written together.
    /// <paramref name="createdBy"/> is who issued the token (an admin key id, a setup link).
    /// </summary>
    public async Task<Result<IssuedDirectory, Problem>> CreateWithTokenAsync(TenantId tenantId, string? name, string? provider,
        string tokenName, string? createdBy, CancellationToken cancellationToken)
    {
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200) return Problem.Validation("'name' is required and must be at most 200 characters.");
        provider = provider?.Trim().ToLowerInvariant() ?? "generic";
        if (!DirectoryProviders.All.Contains(provider))
            return Problem.Validation($"'provider' must be one of {string.Join(", ", DirectoryProviders.All.Append(DirectoryProviders.GoogleDirectory))}.");

        var now = clock.GetUtcNow();
        var directory = new DirectoryRecord(DirectoryId.New(), tenantId, name, provider, now);
        var (plaintext, hash) = NewToken();
        var token = new DirectoryToken(directory.Id, Ids.New("tok_"), tokenName, hash, now, null, CreatedBy: createdBy);
        await store.CreateDirectoryAsync(directory, token, cancellationToken);
        return new IssuedDirectory(directory, token, plaintext);
    }

    /// <summary>How a directory of a pulled <paramref name="provider"/> is authorized; null when the provider is pushed (SCIM) or not installed.</summary>
    public IDirectoryAuthorization? AuthorizationOf(string? provider) => authorizations.FirstOrDefault(a => a.Provider == provider);

    /// <summary>
    /// A new directory this service pulls (no SCIM token), waiting for the customer's admin to
    /// authorize it through <paramref name="authorization"/>, which the caller then starts.
    /// </summary>
    public async Task<Result<PulledDirectory, Problem>> CreatePulledAsync(TenantId tenantId, string? name, IDirectoryAuthorization authorization,
        CancellationToken cancellationToken)
    {
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200) return Problem.Validation("'name' is required and must be at most 200 characters.");
        if (authorization.Unavailable is { } reason) return Problem.Validation(reason);
        var directory = new DirectoryRecord(DirectoryId.New(), tenantId, name, authorization.Provider, clock.GetUtcNow());
        var state = new DirectorySyncState(directory.Id, DirectorySyncState.NeedsAuthorization);
        await syncStore.CreatePulledDirectoryAsync(directory, state, cancellationToken);
        return new PulledDirectory(directory, state);
    }

    /// <summary>
    /// Another SCIM token for <paramref name="directoryId"/>. <paramref name="expiresAt"/> is RFC 3339
    /// as the caller received it, read by <see cref="TokenExpiry.Parse"/>; null never expires.
    /// </summary>
    public async Task<Result<IssuedToken, Problem>> CreateTokenAsync(DirectoryId directoryId, string? name, string? expiresAt,
        string? createdBy, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        name = name?.Trim();
        if (name is { Length: > 100 }) return Problem.Validation("'name' must be at most 100 characters.");
        DateTimeOffset? expiry = null;
        if (expiresAt is not null)
        {
            var parsed = TokenExpiry.Parse(expiresAt, now, MaxTokenLifetime);
            if (!parsed.IsSuccess) return Problem.Validation(parsed.Error);
            expiry = parsed.Value;
        }
        if ((await store.ListTokensAsync(directoryId, cancellationToken)).Count >= MaxTokensPerDirectory)
            return Problem.Validation($"A directory may have at most {MaxTokensPerDirectory} tokens; revoke one first.");
        var (plaintext, hash) = NewToken();
        var token = new DirectoryToken(directoryId, Ids.New("tok_"), name, hash, now, null, CreatedBy: createdBy, ExpiresAt: expiry);
        await store.AddTokenAsync(token, cancellationToken);
        return new IssuedToken(token, plaintext);
    }

    /// <summary>Revokes a token of <paramref name="directoryId"/>; an unknown token is a 404 problem.</summary>
    public async Task<Result<string, Problem>> RevokeTokenAsync(DirectoryId directoryId, string tokenId, CancellationToken cancellationToken) =>
        await store.RevokeTokenAsync(directoryId, tokenId, cancellationToken) ? tokenId : Problem.NotFound("token", tokenId);

    /// <summary>A new SCIM token: 256 random bits, shown once; only its SHA-256 hash is stored.</summary>
    public static (string Plaintext, byte[] Hash) NewToken()
    {
        var plaintext = "scim_" + Base64Url(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        return (plaintext, System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(plaintext)));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>A directory and its first token; <see cref="Plaintext"/> is shown once and stored nowhere.</summary>
public sealed record IssuedDirectory(DirectoryRecord Directory, DirectoryToken Token, string Plaintext);

/// <summary>A pulled directory as created: its record and its sync state (waiting for authorization).</summary>
public sealed record PulledDirectory(DirectoryRecord Directory, DirectorySyncState State);

/// <summary>A token; <see cref="Plaintext"/> is shown once and stored nowhere.</summary>
public sealed record IssuedToken(DirectoryToken Token, string Plaintext);
