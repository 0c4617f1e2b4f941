using Sso.Protocols.Scim;

namespace Sso.Protocols.Tests.Scim;

public class ScimListQueryTests
{
    [Theory]
    [InlineData("Okta's first call", "1", "2", 1, 2)]
    [InlineData("Okta's group listing", "1", "100", 1, 100)]
    [InlineData("startIndex below 1 is 1", "0", "10", 1, 10)]
    [InlineData("negative count is 0", "1", "-5", 1, 0)]
    [InlineData("count above the maximum is the maximum", "1", "100000", 1, 200)]
    [InlineData("nothing given", null, null, 1, 100)]
    public void Clamps_paging_as_RFC_7644_says(string name, string? startIndex, string? count, int expectedStart, int expectedCount)
    {
        var query = ScimListQuery.Parse(null, startIndex, count, null, null, maxCount: 200);

        Assert.True(query.IsSuccess, name);
        Assert.Equal((expectedStart, expectedCount), (query.Value.StartIndex, query.Value.Count));
    }

    [Theory]
    [InlineData("startIndex", "one", null, null)]
    [InlineData("count", null, "ten", null)]
    [InlineData("filter", null, null, "userName eq")]
    public void Rejects_a_list_query_that_is_not_well_formed(string name, string? startIndex, string? count, string? filter)
    {
        var query = ScimListQuery.Parse(filter, startIndex, count, null, null, 200);

        Assert.False(query.IsSuccess, name);
        Assert.Equal(400, query.Error.Status);
    }

    [Theory]
    [InlineData("W/\"3\"", "W/\"3\"", true)]
    [InlineData("\"3\"", "W/\"3\"", true)]
    [InlineData("*", "W/\"3\"", true)]
    [InlineData("W/\"2\", W/\"3\"", "W/\"3\"", true)]
    [InlineData("W/\"2\"", "W/\"3\"", false)]
    [InlineData("", "W/\"3\"", false)]
    public void Compares_ETags_weakly(string header, string current, bool expected)
    {
        Assert.Equal(expected, ScimETag.Matches(header, current));
    }
}
