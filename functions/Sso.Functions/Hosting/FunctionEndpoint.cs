namespace Sso.Functions.Hosting;

/// <summary>
/// One HTTP-triggered Azure Function: its name (the folder of its function.json), its route
/// (without a route prefix; host.json sets routePrefix to "") and its methods.
/// </summary>
public sealed record FunctionEndpoint(
    string FunctionName,
    string Route,
    string[] Methods,
    Func<HttpContext, Task<IResult>> Handler);

/// <summary>
/// One queue-triggered function. The Functions host invokes it as POST /{FunctionName} with the
/// custom-handler invocation payload; locally the queue dispatcher calls the same handler.
/// </summary>
public sealed record QueueFunction(
    string FunctionName,
    string QueueName,
    Func<WorkItem, IServiceProvider, CancellationToken, Task> Handler);

/// <summary>One timer-triggered function (NCRONTAB schedule), invoked like a queue function.</summary>
public sealed record TimerFunction(
    string FunctionName,
    string Schedule,
    Func<IServiceProvider, CancellationToken, Task> Handler);

/// <summary>The body of a work-queue message, as every queue function receives it.</summary>
public sealed record WorkItem(string MessageId, string Kind, string Body, int DeliveryCount);
