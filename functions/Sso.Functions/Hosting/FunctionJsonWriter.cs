using System.Text;
using System.Text.Json;

namespace Sso.Functions.Hosting;

/// <summary>
/// Writes the function.json of every function in <see cref="FunctionTable"/>: what the Functions
/// host reads to know which triggers exist. The package step (tools/Sso.Package) puts each under
/// <c>&lt;FunctionName&gt;/function.json</c> beside host.json and the handler binary.
/// </summary>
public static class FunctionJsonWriter
{
    /// <summary>
    /// The app setting prefix of the Service Bus trigger's connection. Identity-based: the host
    /// reads <c>ServiceBusConnection__fullyQualifiedNamespace</c> (and <c>__credential</c>,
    /// <c>__clientId</c>); no connection string exists anywhere.
    /// </summary>
    public const string ServiceBusConnection = "ServiceBusConnection";

    /// <summary>Every function's name and its function.json, in table order.</summary>
    public static IEnumerable<(string FunctionName, string Json)> WriteAll()
    {
        foreach (var endpoint in FunctionTable.Http) yield return (endpoint.FunctionName, Write(endpoint));
        foreach (var queue in FunctionTable.Queues) yield return (queue.FunctionName, Write(queue));
        foreach (var timer in FunctionTable.Timers) yield return (timer.FunctionName, Write(timer));
    }

    public static string Write(FunctionEndpoint endpoint) => Bindings(json =>
    {
        // host.json sets routePrefix to "", so the host's route is the handler's route, and with
        // enableForwardingHttpRequest the request reaches the handler at the same path.
        json.WriteStartObject();
        json.WriteString("type", "httpTrigger");
        json.WriteString("direction", "in");
        json.WriteString("name", "req");
        json.WriteString("authLevel", "anonymous");
        json.WriteStartArray("methods");
        foreach (var method in endpoint.Methods) json.WriteStringValue(method.ToLowerInvariant());
        json.WriteEndArray();
        json.WriteString("route", endpoint.Route.TrimStart('/'));
        json.WriteEndObject();

        json.WriteStartObject();
        json.WriteString("type", "http");
        json.WriteString("direction", "out");
        json.WriteString("name", "res");
        json.WriteEndObject();
    });

    public static string Write(QueueFunction queue) => Bindings(json =>
    {
        json.WriteStartObject();
        json.WriteString("type", "serviceBusTrigger");
        json.WriteString("direction", "in");
        json.WriteString("name", "message");
        json.WriteString("queueName", queue.QueueName);
        json.WriteString("connection", ServiceBusConnection);
        json.WriteEndObject();
    });

    public static string Write(TimerFunction timer) => Bindings(json =>
    {
        json.WriteStartObject();
        json.WriteString("type", "timerTrigger");
        json.WriteString("direction", "in");
        json.WriteString("name", "timer");
        json.WriteString("schedule", timer.Schedule);
        json.WriteEndObject();
    });

    private static string Bindings(Action<Utf8JsonWriter> writeBindings)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("bindings");
            writeBindings(json);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
