using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;

namespace Sso.Testing;

/// <summary>
/// The third-party SAML IdP in <c>tests/peers/saml-idp</c> (npm <c>samlify</c>) as a Node
/// process on a free loopback port. Its signing key is generated here at startup and handed
/// over in a temporary file; it "logs in" the one user given at start.
/// </summary>
public sealed partial class SamlifyIdpServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _keyFolder;
    private readonly StringBuilder _log = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly HttpClient _noRedirects = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };

    private SamlifyIdpServer(Process process, int port, X509Certificate2 certificate, string keyFolder)
    {
        _process = process;
        Port = port;
        Certificate = certificate;
        _keyFolder = keyFolder;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public sealed record User(string Email, string FirstName, string LastName, IReadOnlyList<string> Groups);

    /// <param name="EncryptionAlgorithm">An XML Encryption data algorithm URI: samlify encrypts the
    /// signed assertion to the SP's encryption certificate (RSA-OAEP key transport).</param>
    /// <param name="WantAuthnRequestsSigned">samlify refuses AuthnRequests without a valid redirect signature.</param>
    /// <param name="PostBindingOnly">The IdP's metadata lists only HTTP-POST for sign-in and logout.</param>
    /// <param name="SessionAgeSeconds">How long ago the user's IdP session started: AuthnInstant unless the request has ForceAuthn="true".</param>
    /// <param name="IgnoreForceAuthn">Answer from the old session even when ForceAuthn="true" (an IdP that ignores it).</param>
    public sealed record Options(string? EncryptionAlgorithm = null, bool WantAuthnRequestsSigned = false, bool PostBindingOnly = false,
        int SessionAgeSeconds = 0, bool IgnoreForceAuthn = false);

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public string MetadataUrl => BaseUrl + "/metadata";
    public string SsoUrl => BaseUrl + "/sso";
    public string SloUrl => BaseUrl + "/slo";

    /// <summary>The IdP's signing certificate (its private key stays with the Node process).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>What the IdP printed, for assertion messages when a step fails.</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public static string PeerFolder => Path.Combine(RepositoryPaths.Root, "tests", "peers", "saml-idp");

    public static async Task<SamlifyIdpServer> StartAsync(User user, Options? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new Options();
        if (!Directory.Exists(Path.Combine(PeerFolder, "node_modules")))
            throw new InvalidOperationException($"The samlify IdP is not installed in {PeerFolder}; run ./test.sh (it installs it).");

        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=samlify test IdP", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var keyFolder = Directory.CreateTempSubdirectory("sso-saml-idp-").FullName;
        var keyFile = Path.Combine(keyFolder, "key.pem");
        var certFile = Path.Combine(keyFolder, "cert.pem");
        await File.WriteAllTextAsync(keyFile, rsa.ExportPkcs8PrivateKeyPem(), cancellationToken);
        await File.WriteAllTextAsync(certFile, certificate.ExportCertificatePem(), cancellationToken);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var port = AzuriteServer.FreePort();
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { Path.Combine(PeerFolder, "idp.js") },
            WorkingDirectory = PeerFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment =
            {
                ["IDP_PORT"] = port.ToString(),
                ["IDP_KEY_FILE"] = keyFile,
                ["IDP_CERT_FILE"] = certFile,
                ["IDP_USER_EMAIL"] = user.Email,
                ["IDP_USER_FIRST_NAME"] = user.FirstName,
                ["IDP_USER_LAST_NAME"] = user.LastName,
                ["IDP_USER_GROUPS"] = string.Join(',', user.Groups),
                ["IDP_ENCRYPTION"] = options.EncryptionAlgorithm ?? "",
                ["IDP_WANT_AUTHN_REQUESTS_SIGNED"] = options.WantAuthnRequestsSigned ? "1" : "0",
                ["IDP_BINDINGS"] = options.PostBindingOnly ? "post" : "",
                ["IDP_SESSION_AGE_SECONDS"] = options.SessionAgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["IDP_IGNORE_FORCE_AUTHN"] = options.IgnoreForceAuthn ? "1" : "0",
            },
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        var server = new SamlifyIdpServer(process, port, certificate, keyFolder);
        try
        {
            await server.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>Registers our SP with the IdP by its SP metadata, as an IT admin uploads it.</summary>
    public async Task RegisterServiceProviderAsync(string spMetadataXml, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PutAsync(BaseUrl + "/sp",
            new StringContent(spMetadataXml, Encoding.UTF8, "application/xml"), cancellationToken);
        if (response.StatusCode != HttpStatusCode.NoContent)
            throw new InvalidOperationException($"The IdP refused the SP metadata ({(int)response.StatusCode}): " +
                await response.Content.ReadAsStringAsync(cancellationToken) + "\n" + Log);
    }

    public sealed record PostedForm(string Action, string SamlResponse, string? RelayState);

    /// <summary>
    /// The browser's visit to the IdP: follows our redirect (SAMLRequest + RelayState) to the
    /// IdP's SSO endpoint and reads the auto-submitting form it answers with.
    /// </summary>
    public async Task<PostedForm> SignInAsync(Uri authnRequestRedirect, CancellationToken cancellationToken = default)
    {
        var (status, html) = await VisitAsync(authnRequestRedirect, cancellationToken);
        if (status != HttpStatusCode.OK)
            throw new InvalidOperationException($"The IdP answered {(int)status}: {html}\n{Log}");
        return ReadForm(html);
    }

    /// <summary>The IdP's raw answer to our redirect, for tests that expect it to refuse.</summary>
    public async Task<(HttpStatusCode Status, string Body)> VisitAsync(Uri authnRequestRedirect, CancellationToken cancellationToken = default)
    {
        if (!authnRequestRedirect.OriginalString.StartsWith(SsoUrl + "?", StringComparison.Ordinal))
            throw new InvalidOperationException($"The redirect goes to {authnRequestRedirect}, not to this IdP's {SsoUrl}.");
        // OriginalString: the query exactly as we were redirected with it; a signed redirect is
        // verified over those bytes.
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(authnRequestRedirect.OriginalString, UriKind.Absolute));
        using var response = await _http.SendAsync(request, cancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    /// <summary>IdP-initiated sign-in: the user picks the app in the IdP's portal (no AuthnRequest).</summary>
    public async Task<PostedForm> InitiateAsync(string spEntityId, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(BaseUrl + "/initiate?sp=" + Uri.EscapeDataString(spEntityId), cancellationToken);
        var html = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"The IdP answered {(int)response.StatusCode}: {html}\n{Log}");
        return ReadForm(html);
    }

    /// <summary>
    /// The browser bringing our LogoutRequest (HTTP-Redirect) to the IdP's SLO endpoint; samlify
    /// checks it and answers a redirect back to our SLO endpoint (or an error status).
    /// </summary>
    public async Task<HttpResponseMessage> VisitSloAsync(Uri logoutRequestRedirect, CancellationToken cancellationToken = default)
    {
        if (!logoutRequestRedirect.OriginalString.StartsWith(SloUrl + "?", StringComparison.Ordinal))
            throw new InvalidOperationException($"The redirect goes to {logoutRequestRedirect}, not to this IdP's {SloUrl}.");
        return await _noRedirects.GetAsync(new Uri(logoutRequestRedirect.OriginalString, UriKind.Absolute), cancellationToken);
    }

    /// <summary>The browser posting our auto-submitting logout form (HTTP-POST) to the IdP's SLO endpoint.</summary>
    public async Task<HttpResponseMessage> PostSloAsync(string action, IReadOnlyDictionary<string, string> fields,
        CancellationToken cancellationToken = default)
    {
        if (action != SloUrl) throw new InvalidOperationException($"The form posts to {action}, not to this IdP's {SloUrl}.");
        return await _noRedirects.PostAsync(action, new FormUrlEncodedContent(fields), cancellationToken);
    }

    /// <summary>What samlify made for an IdP-initiated logout: a redirect URL, or a form to post.</summary>
    public sealed record IdpLogoutRequest(string Id, string RelayState, string? Url, string? Action, string? SamlRequest);

    /// <summary>IdP-initiated logout of the user's latest session at this SP (the admin or the user signs out at the IdP).</summary>
    public async Task<IdpLogoutRequest> LogoutUserAsync(string spEntityId, string binding, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(BaseUrl + "/logout-user?sp=" + Uri.EscapeDataString(spEntityId) + "&binding=" + binding,
            cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"The IdP answered {(int)response.StatusCode}: {body}\n{Log}");
        var json = System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject();
        return new IdpLogoutRequest(json["id"]!.GetValue<string>(), json["relayState"]!.GetValue<string>(),
            json["url"]?.GetValue<string>(), json["action"]?.GetValue<string>(), json["samlRequest"]?.GetValue<string>());
    }

    /// <summary>The logout messages samlify accepted: <c>{requests:[...], responses:[...]}</c>.</summary>
    public async Task<System.Text.Json.Nodes.JsonObject> LogoutsAsync(CancellationToken cancellationToken = default) =>
        System.Text.Json.Nodes.JsonNode.Parse(await _http.GetStringAsync(BaseUrl + "/logouts", cancellationToken))!.AsObject();

    /// <summary>The hidden fields of an auto-submitting form, by name.</summary>
    public static (string Action, Dictionary<string, string> Fields) ReadFormFields(string html)
    {
        var action = FormAction().Match(html);
        if (!action.Success) throw new InvalidOperationException("The page has no POST form: " + html);
        return (WebUtility.HtmlDecode(action.Groups["action"].Value), HiddenInput().Matches(html).ToDictionary(
            m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value)));
    }

    public static PostedForm ReadForm(string html)
    {
        var action = FormAction().Match(html);
        if (!action.Success) throw new InvalidOperationException("The IdP's page has no POST form: " + html);
        var fields = HiddenInput().Matches(html).ToDictionary(
            m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));
        if (!fields.TryGetValue("SAMLResponse", out var samlResponse))
            throw new InvalidOperationException("The IdP's form has no SAMLResponse: " + html);
        return new PostedForm(WebUtility.HtmlDecode(action.Groups["action"].Value), samlResponse, fields.GetValueOrDefault("RelayState"));
    }

    private async Task WaitUntilAnsweringAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The samlify IdP exited with {_process.ExitCode}:\n{Log}");
            try
            {
                using var response = await _http.GetAsync(MetadataUrl, cancellationToken);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100, cancellationToken);
        }
        throw new InvalidOperationException($"The samlify IdP did not answer within {limit.TotalSeconds:0} s:\n{Log}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        _http.Dispose();
        _noRedirects.Dispose();
        try
        {
            Directory.Delete(_keyFolder, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }

    [GeneratedRegex(@"<form\b[^>]*\bmethod=""post""[^>]*\baction=""(?<action>[^""]*)""", RegexOptions.IgnoreCase)]
    private static partial Regex FormAction();

    [GeneratedRegex(@"<input\b[^>]*\btype=""hidden""[^>]*\bname=""(?<name>[^""]*)""[^>]*\bvalue=""(?<value>[^""]*)""", RegexOptions.IgnoreCase)]
    private static partial Regex HiddenInput();
}
