using Sso.Functions.Hosting;

if (args is [Sso.Functions.Storage.Queues.ServiceBusMessageCheck.Argument])
{
    // A self-check for the deploy smoke test, run without a host, a network or configuration.
    using var stdout = Console.OpenStandardOutput();
    Environment.ExitCode = Sso.Functions.Storage.Queues.ServiceBusMessageCheck.Run(stdout);
    return;
}

var builder = WebApplication.CreateSlimBuilder(args);

// The Functions host tells a custom handler its port; standalone we listen where `func start` would.
var hostPort = Environment.GetEnvironmentVariable("FUNCTIONS_CUSTOMHANDLER_PORT");
builder.WebHost.UseUrls(hostPort is { Length: > 0 }
    ? $"http://127.0.0.1:{hostPort}"
    : builder.Configuration["Urls"] is { Length: > 0 } urls ? urls : SsoOptions.LocalBaseUrl);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

builder.Logging.AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.TimestampFormat = "HH:mm:ss.fff ";
});
// ASP.NET Core's own request logs print full URLs (codes, setup tokens); RequestPipeline logs instead.
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, SsoJsonContext.Default));
builder.Services.AddSso(builder.Configuration, builder.Environment);

var app = builder.Build();
app.UseMiddleware<StrictTransportSecurity>();
// Outside the pipeline, so the audit trail sees each answer as it was finally decided.
app.UseMiddleware<Sso.Functions.Audit.RequestAudit>();
app.UseMiddleware<RequestPipeline>();
app.MapFunctions();
app.Run();

public partial class Program;
