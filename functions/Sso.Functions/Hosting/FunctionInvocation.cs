using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Hosting;

/// <summary>
/// The custom-handler side of a non-HTTP trigger: the Functions host POSTs
/// <c>{"Data":{...},"Metadata":{...}}</c> to /{FunctionName} and reads
/// <c>{"Outputs":{},"Logs":[],"ReturnValue":null}</c> back. A non-2xx reply fails the
/// invocation, so Service Bus redelivers and finally dead-letters the message.
/// </summary>
public static partial class FunctionInvocation
{
    public const int MaxPayloadBytes = 256 * 1024;

    public static async Task RunQueueFunctionAsync(QueueFunction function, HttpContext context)
    {
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Queue");
        var payload = await context.Request.ReadBodyBytesAsync(MaxPayloadBytes, context.RequestAborted);
        if (payload is null || ReadWorkItem(payload) is not { } item)
        {
            // A payload we cannot read never becomes readable: fail it so it dead-letters, visibly.
            LogUnreadablePayload(logger, function.FunctionName);
            await WriteInvocationResultAsync(context, StatusCodes.Status400BadRequest);
            return;
        }

        await function.Handler(item, context.RequestServices, context.RequestAborted);
        await WriteInvocationResultAsync(context, StatusCodes.Status200OK);
    }

    public static async Task RunTimerFunctionAsync(TimerFunction function, HttpContext context)
    {
        await function.Handler(context.RequestServices, context.RequestAborted);
        await WriteInvocationResultAsync(context, StatusCodes.Status200OK);
    }

    /// <summary>
    /// Reads the work item from a host invocation payload. The Service Bus trigger's binding is
    /// named "message"; its value is the message body (the work envelope), as a JSON string or
    /// already parsed, depending on the host version.
    /// </summary>
    public static WorkItem? ReadWorkItem(byte[] payload)
    {
        try
        {
            if (JsonNode.Parse(payload) is not JsonObject invocation) return null;
            var data = invocation["Data"] as JsonObject;
            var metadata = invocation["Metadata"] as JsonObject;
            var message = data?["message"];
            var envelopeText = message switch
            {
                JsonValue value when value.TryGetValue<string>(out var text) => text,
                JsonObject obj => obj.ToJsonString(),
                _ => null,
            };
            if (envelopeText is null) return null;
            var envelope = WorkEnvelope.Read(envelopeText);
            if (envelope is null) return null;
            var messageId = ReadString(metadata?["MessageId"]) ?? envelope.MessageId;
            var deliveryCount = ReadInt(metadata?["DeliveryCount"]) ?? 1;
            return new WorkItem(messageId, envelope.Kind, envelope.Body, deliveryCount);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? ReadString(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text)
            ? text.Trim('"')
            : null;

    private static int? ReadInt(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue<int>(out var number) => number,
        JsonValue value when value.TryGetValue<string>(out var text) && int.TryParse(text, out var parsed) => parsed,
        _ => null,
    };

    private static async Task WriteInvocationResultAsync(HttpContext context, int status)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("""{"Outputs":{},"Logs":[],"ReturnValue":null}""", context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Function {FunctionName} received a payload it cannot read")]
    private static partial void LogUnreadablePayload(ILogger logger, string functionName);
}
