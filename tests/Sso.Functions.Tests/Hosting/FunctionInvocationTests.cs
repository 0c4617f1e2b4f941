using System.Text;
using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Tests.Hosting;

public class FunctionInvocationTests
{
    [Fact]
    public void Reads_a_service_bus_invocation_whose_message_is_a_json_string()
    {
        var envelope = new WorkEnvelope("evt_9", "user.revoke", """{"userId":"usr_1"}""").Write();
        var message = System.Text.Json.JsonSerializer.Serialize(envelope);
        var payload = "{\"Data\":{\"message\":" + message + "}," +
            "\"Metadata\":{\"MessageId\":\"\\\"evt_9\\\"\",\"DeliveryCount\":\"3\",\"sys\":{\"MethodName\":\"DeprovisionWorker\"}}}";

        var item = FunctionInvocation.ReadWorkItem(Encoding.UTF8.GetBytes(payload));

        Assert.Equal(new WorkItem("evt_9", "user.revoke", """{"userId":"usr_1"}""", 3), item);
    }

    [Fact]
    public void Reads_a_service_bus_invocation_whose_message_was_parsed_by_the_host()
    {
        var payload = """{"Data":{"message":{"messageId":"m1","kind":"k","body":"{}"}},"Metadata":{"DeliveryCount":1}}""";
        Assert.Equal(new WorkItem("m1", "k", "{}", 1), FunctionInvocation.ReadWorkItem(Encoding.UTF8.GetBytes(payload)));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"Data":{}}""")]
    [InlineData("""{"Data":{"message":"not an envelope"}}""")]
    [InlineData("""{"Data":{"message":{"kind":"k"}}}""")]
    public void Returns_null_for_a_payload_that_is_not_a_work_item(string payload)
    {
        Assert.Null(FunctionInvocation.ReadWorkItem(Encoding.UTF8.GetBytes(payload)));
    }
}
