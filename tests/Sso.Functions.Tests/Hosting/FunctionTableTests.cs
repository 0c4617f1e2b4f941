using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Sso.Functions.Hosting;
using Sso.Testing;

namespace Sso.Functions.Tests.Hosting;

public class FunctionTableTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Fact]
    public void Routes_every_endpoint_of_the_table_with_its_route_and_methods()
    {
        var routed = fixture.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        foreach (var function in FunctionTable.Http)
        {
            var endpoint = Assert.Single(routed, e => e.Metadata.GetMetadata<FunctionEndpoint>() == function);
            Assert.Equal(function.Route.TrimStart('/'), endpoint.RoutePattern.RawText!.TrimStart('/'));
            Assert.Equal(function.Methods, endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods);
        }
    }

    [Fact]
    public void Routes_nothing_that_is_not_in_the_table()
    {
        var names = FunctionTable.Http.Select(f => f.FunctionName)
            .Concat(FunctionTable.Queues.Select(q => q.FunctionName))
            .Concat(FunctionTable.Timers.Select(t => t.FunctionName))
            .ToHashSet();
        var routed = fixture.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        Assert.All(routed, e => Assert.Contains(e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? "(unnamed)", names));
    }

    [Fact]
    public void Gives_every_function_a_unique_name_that_can_be_a_folder()
    {
        var names = FunctionTable.Http.Select(f => f.FunctionName)
            .Concat(FunctionTable.Queues.Select(q => q.FunctionName))
            .Concat(FunctionTable.Timers.Select(t => t.FunctionName))
            .ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(names, n => Assert.Matches("^[A-Za-z][A-Za-z0-9_]{0,126}$", n));
    }

    [Fact]
    public void Uses_no_route_twice_for_the_same_method()
    {
        var pairs = FunctionTable.Http.SelectMany(f => f.Methods.Select(m => $"{m} {f.Route}")).ToList();
        Assert.Equal(pairs.Count, pairs.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }
}
