using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;

namespace Sso.Testing;

/// <summary>
/// Google's OAuth token endpoint and Admin SDK Directory API (users, groups, members) on a loopback
/// port, as much of them as the directory sync uses: the authorization-code grant with PKCE S256,
/// the refresh-token grant (and <c>invalid_grant</c> once revoked), bearer access tokens, and list
/// pages of <see cref="PageSize"/> entries chained by <c>nextPageToken</c>. <see cref="Fail"/>
/// scripts 429s and 5xxs. Point the app at it with <see cref="Settings"/>.
/// </summary>
public sealed class FakeGoogleWorkspace : IDisposable
{
    public const string ClientId = "fake-google-client.apps.googleusercontent.com";
    public const string ClientSecret = "fake-google-client-secret";

    private readonly RecordingHttpReceiver _http = new();
    private readonly object _lock = new();
    private readonly Dictionary<string, (string Challenge, string RedirectUri)> _codes = new();
    private readonly HashSet<string> _refreshTokens = new();
    private readonly HashSet<string> _accessTokens = new();
    private readonly List<Failure> _failures = new();
    private readonly List<JsonObject> _users = new();
    private readonly List<(JsonObject Group, List<JsonObject> Members)> _groups = new();

    private sealed class Failure(Func<string, bool> matches, int status, int times, string? retryAfter)
    {
        public Func<string, bool> Matches { get; } = matches;
        public int Status { get; } = status;
        public int Left { get; set; } = times;
        public string? RetryAfter { get; } = retryAfter;
    }

    public FakeGoogleWorkspace()
    {
        _http.Responder = Answer;
    }

    public string BaseUrl => _http.BaseUrl.TrimEnd('/');

    public int PageSize { get; set; } = 2;

    public IReadOnlyList<RecordedRequest> Requests => _http.Requests;

    /// <summary>The refresh tokens this fake has issued (the app must keep them only in its secret store).</summary>
    public IReadOnlyCollection<string> IssuedRefreshTokens
    {
        get { lock (_lock) return _refreshTokens.ToList(); }
    }

    public Dictionary<string, string?> Settings => new()
    {
        ["Google:ClientId"] = ClientId,
        ["Google:ClientSecret"] = ClientSecret,
        ["Google:AuthorizeUrl"] = BaseUrl + "/o/oauth2/v2/auth",
        ["Google:TokenUrl"] = BaseUrl + "/token",
        ["Google:DirectoryApiBaseUrl"] = BaseUrl,
        ["Google:RetryBaseSeconds"] = "0",
    };

    public JsonObject AddUser(string email, string given, string family, bool suspended = false, string? id = null)
    {
        var user = new JsonObject
        {
            ["kind"] = "admin#directory#user",
            ["id"] = id ?? RandomDigits(),
            ["etag"] = "\"" + Guid.NewGuid().ToString("N") + "\"",
            ["primaryEmail"] = email,
            ["name"] = new JsonObject { ["givenName"] = given, ["familyName"] = family, ["fullName"] = given + " " + family },
            ["isAdmin"] = false,
            ["suspended"] = suspended,
            ["orgUnitPath"] = "/",
            ["lastLoginTime"] = DateTimeOffset.UtcNow.ToString("O"),
        };
        lock (_lock) _users.Add(user);
        return user;
    }

    public void RemoveUser(string id)
    {
        lock (_lock) _users.RemoveAll(u => u["id"]!.GetValue<string>() == id);
    }

    /// <summary>Puts the user back as it was (a user listed again).</summary>
    public void RestoreUser(JsonObject user)
    {
        lock (_lock) _users.Add(user);
    }

    /// <summary>A group; members are (id, type) with type USER, GROUP (a nested group) or CUSTOMER.</summary>
    public JsonObject AddGroup(string name, params (string Id, string Type)[] members)
    {
        var group = new JsonObject
        {
            ["kind"] = "admin#directory#group",
            ["id"] = "0" + RandomDigits()[..10] + "g",
            ["email"] = name.ToLowerInvariant().Replace(' ', '-') + "@example.test",
            ["name"] = name,
            ["directMembersCount"] = members.Length.ToString(),
            ["description"] = "",
        };
        var rows = members.Select(m => new JsonObject
        {
            ["kind"] = "admin#directory#member", ["id"] = m.Id, ["type"] = m.Type, ["role"] = "MEMBER", ["status"] = "ACTIVE",
        }).ToList();
        lock (_lock) _groups.Add((group, rows));
        return group;
    }

    /// <summary>
    /// The next <paramref name="times"/> requests whose path and query contain <paramref name="pathContains"/> answer
    /// <paramref name="status"/> (-1: every one), with a <c>Retry-After</c> header when <paramref name="retryAfter"/> is given.
    /// </summary>
    public void Fail(string pathContains, int status, int times = 1, string? retryAfter = null)
    {
        lock (_lock) _failures.Add(new Failure(path => path.Contains(pathContains, StringComparison.Ordinal), status, times, retryAfter));
    }

    public void ClearFailures()
    {
        lock (_lock) _failures.Clear();
    }

    /// <summary>The admin revokes the app's access: every refresh token is refused with invalid_grant, every access token with 401.</summary>
    public void RevokeAll()
    {
        lock (_lock)
        {
            _refreshTokens.Clear();
            _accessTokens.Clear();
        }
    }

    /// <summary>What Google does when the admin consents at <paramref name="authorizeUrl"/>: the code it sends to the redirect URI.</summary>
    public string Consent(string authorizeUrl)
    {
        var query = QueryHelpers.ParseQuery(new Uri(authorizeUrl).Query);
        var code = "4/" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        lock (_lock) _codes[code] = (query["code_challenge"].ToString(), query["redirect_uri"].ToString());
        return code;
    }

    private static string RandomDigits() =>
        string.Concat(RandomNumberGenerator.GetBytes(21).Select(b => (char)('0' + b % 10)));

    private ScriptedResponse Answer(RecordedRequest request)
    {
        lock (_lock)
        {
            if (_failures.FirstOrDefault(f => f.Left != 0 && f.Matches(request.PathAndQuery)) is { } failure)
            {
                if (failure.Left > 0) failure.Left--;
                var failed = Json(failure.Status, new JsonObject { ["error"] = new JsonObject { ["code"] = failure.Status, ["message"] = "scripted failure" } });
                if (failure.RetryAfter is not null) failed.Headers!["Retry-After"] = failure.RetryAfter;
                return failed;
            }
            var path = request.PathAndQuery.Split('?')[0];
            var query = QueryHelpers.ParseQuery(request.PathAndQuery.Contains('?') ? request.PathAndQuery[request.PathAndQuery.IndexOf('?')..] : "");
            if (request.Method == "POST" && path == "/token") return Token(QueryHelpers.ParseQuery(request.BodyText));
            if (request.Method != "GET") return Json(405, new JsonObject());
            var bearer = request.Headers.GetValueOrDefault("Authorization") is { } header && header.StartsWith("Bearer ", StringComparison.Ordinal)
                ? header[7..]
                : null;
            if (bearer is null || !_accessTokens.Contains(bearer))
                return Json(401, new JsonObject { ["error"] = new JsonObject { ["code"] = 401, ["message"] = "Invalid Credentials" } });
            if (path == "/admin/directory/v1/users")
                return query["customer"] == "my_customer" ? Page("users", _users, query) : Json(400, new JsonObject());
            if (path == "/admin/directory/v1/groups")
                return query["customer"] == "my_customer" ? Page("groups", _groups.Select(g => g.Group).ToList(), query) : Json(400, new JsonObject());
            var parts = path.Split('/');
            if (parts.Length == 7 && parts[4] == "groups" && parts[6] == "members"
                && _groups.FirstOrDefault(g => g.Group["id"]!.GetValue<string>() == Uri.UnescapeDataString(parts[5])) is { Group: not null } found)
                return Page("members", found.Members, query);
            return Json(404, new JsonObject { ["error"] = new JsonObject { ["code"] = 404, ["message"] = "Resource Not Found" } });
        }
    }

    private ScriptedResponse Page(string name, List<JsonObject> all, Dictionary<string, Microsoft.Extensions.Primitives.StringValues> query)
    {
        var offset = query.TryGetValue("pageToken", out var token) && token.ToString().StartsWith("p", StringComparison.Ordinal)
            ? int.Parse(token.ToString()[1..], System.Globalization.CultureInfo.InvariantCulture)
            : 0;
        // Google's maxResults, when it asks for fewer than the fake's page size.
        var size = query.TryGetValue("maxResults", out var max) && int.TryParse(max, out var asked) && asked > 0 ? Math.Min(asked, PageSize) : PageSize;
        var body = new JsonObject { [name] = new JsonArray(all.Skip(offset).Take(size).Select(x => (JsonNode)x.DeepClone()).ToArray()) };
        if (offset + size < all.Count) body["nextPageToken"] = "p" + (offset + size);
        return Json(200, body);
    }

    private ScriptedResponse Token(Dictionary<string, Microsoft.Extensions.Primitives.StringValues> form)
    {
        if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
            return Json(401, new JsonObject { ["error"] = "invalid_client" });
        if (form["grant_type"] == "authorization_code")
        {
            var code = form["code"].ToString();
            if (!_codes.Remove(code, out var issued) || issued.RedirectUri != form["redirect_uri"]
                || Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != issued.Challenge)
                return Json(400, new JsonObject { ["error"] = "invalid_grant" });
            var refresh = "1//" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            _refreshTokens.Add(refresh);
            return Json(200, new JsonObject
            {
                ["access_token"] = NewAccessToken(), ["expires_in"] = 3599, ["token_type"] = "Bearer", ["refresh_token"] = refresh,
                ["scope"] = "https://www.googleapis.com/auth/admin.directory.user.readonly",
            });
        }
        if (form["grant_type"] == "refresh_token")
            return _refreshTokens.Contains(form["refresh_token"].ToString())
                ? Json(200, new JsonObject { ["access_token"] = NewAccessToken(), ["expires_in"] = 3599, ["token_type"] = "Bearer" })
                : Json(400, new JsonObject { ["error"] = "invalid_grant", ["error_description"] = "Token has been expired or revoked." });
        return Json(400, new JsonObject { ["error"] = "unsupported_grant_type" });
    }

    private string NewAccessToken()
    {
        var token = "ya29." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        _accessTokens.Add(token);
        return token;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static ScriptedResponse Json(int status, JsonObject body) =>
        new(status, new Dictionary<string, string> { ["Content-Type"] = "application/json" }, body.ToJsonString());

    public void Dispose() => _http.Dispose();
}
