using System.Xml.Linq;
using Sso.Functions.Audit;
using Sso.Functions.OperatorConsole;

namespace Sso.Functions.Tests.OperatorConsole;

public class ActivityChartTests
{
    private static readonly DateOnly Today = new(2026, 12, 7);
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static XElement Chart(params DailyActivity[] counts) => XElement.Parse(ActivityChart.Svg("Sign-ins per day", "signed in", "refused",
        ActivityChart.LastDays(counts, AuditTypes.SignInAttempt, Today)));

    private static List<XElement> Days(XElement chart) => chart.Elements(Svg + "g").Where(g => (string?)g.Attribute("class") == "day").ToList();

    private static double Height(XElement day, string kind) =>
        double.Parse(day.Elements(Svg + "rect").Single(r => (string?)r.Attribute("class") == kind).Attribute("height")!.Value,
            System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Shows_14_days_ending_today_with_empty_days_as_zero()
    {
        var chart = Chart(new DailyActivity(Today.AddDays(-3), AuditTypes.SignInAttempt, 5, 1));

        var days = Days(chart);
        Assert.Equal(14, days.Count);
        Assert.Equal("2026-11-24", days[0].Attribute("data-date")!.Value);
        Assert.Equal("2026-12-07", days[^1].Attribute("data-date")!.Value);
        Assert.All(days.Where(d => d.Attribute("data-date")!.Value != "2026-12-04"), d =>
        {
            Assert.Equal(0, Height(d, "success"));
            Assert.Equal(0, Height(d, "failure"));
            Assert.EndsWith(": 0 signed in, 0 refused", d.Element(Svg + "title")!.Value);
        });
    }

    [Fact]
    public void Bar_heights_are_proportional_to_the_counts_and_stack_refusals_on_successes()
    {
        var days = Days(Chart(
            new DailyActivity(Today, AuditTypes.SignInAttempt, 30, 10),
            new DailyActivity(Today.AddDays(-1), AuditTypes.SignInAttempt, 10, 0),
            new DailyActivity(Today.AddDays(-2), AuditTypes.SignInAttempt, 0, 20),
            new DailyActivity(Today.AddDays(-1), AuditTypes.ScimRequest, 1000, 0)));   // another kind: not in this chart

        Assert.Equal(ActivityChart.PlotHeight * 30 / 40, Height(days[^1], "success"));
        Assert.Equal(ActivityChart.PlotHeight * 10 / 40, Height(days[^1], "failure"));
        Assert.Equal(ActivityChart.PlotHeight * 10 / 40, Height(days[^2], "success"));
        Assert.Equal(ActivityChart.PlotHeight * 20 / 40, Height(days[^3], "failure"));
        // The refusal bar sits on top of the success bar.
        var today = days[^1].Elements(Svg + "rect").ToList();
        Assert.Equal(double.Parse(today[0].Attribute("y")!.Value, System.Globalization.CultureInfo.InvariantCulture),
            double.Parse(today[1].Attribute("y")!.Value, System.Globalization.CultureInfo.InvariantCulture) + Height(days[^1], "failure"));
    }

    [Fact]
    public void Is_accessible_a_title_for_the_chart_a_description_and_a_title_per_day()
    {
        var chart = Chart(new DailyActivity(Today, AuditTypes.SignInAttempt, 3, 2));

        Assert.Equal("img", chart.Attribute("role")!.Value);
        Assert.Equal("Sign-ins per day", chart.Element(Svg + "title")!.Value);
        Assert.Equal("3 signed in, 2 refused over 14 days; the busiest day had 5.", chart.Element(Svg + "desc")!.Value);
        Assert.Equal("2026-12-07: 3 signed in, 2 refused", Days(chart)[^1].Element(Svg + "title")!.Value);
        Assert.Equal("7", Days(chart)[^1].Element(Svg + "text")!.Value);
    }

    [Fact]
    public void Encodes_its_labels()
    {
        var svg = ActivityChart.Svg("<script>", "a&b", "c", ActivityChart.LastDays([], AuditTypes.ScimRequest, Today));
        Assert.DoesNotContain("<script>", svg);
        XElement.Parse(svg);
    }
}
