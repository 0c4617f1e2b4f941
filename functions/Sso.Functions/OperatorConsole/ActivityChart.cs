using System.Globalization;
using System.Net;
using System.Text;
using Sso.Functions.Audit;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// The overview's charts: per-day counts as a small server-rendered SVG bar chart, successes and
/// refusals stacked, each bar with a <c>&lt;title&gt;</c> a screen reader (and a hover) reads. Pure:
/// counts in, markup out.
/// </summary>
public static class ActivityChart
{
    public sealed record Day(DateOnly Date, long Success, long Failure)
    {
        public long Total => Success + Failure;
    }

    public const double PlotHeight = 100;
    public const double BarWidth = 16;
    public const double BarGap = 6;
    private const double Top = 14;
    private const double Left = 4;
    private const double LabelHeight = 16;

    public const string SuccessFill = "#2f7d4f";
    public const string FailureFill = "#c0392b";

    /// <summary>The <paramref name="days"/> days ending with <paramref name="today"/>, oldest first; a day without counts is zero.</summary>
    public static IReadOnlyList<Day> LastDays(IEnumerable<DailyActivity> counts, string type, DateOnly today, int days = 14)
    {
        var byDay = counts.Where(c => c.Type == type).GroupBy(c => c.Day)
            .ToDictionary(g => g.Key, g => (g.Sum(c => c.Success), g.Sum(c => c.Failure)));
        return Enumerable.Range(0, days).Select(i => today.AddDays(i - days + 1))
            .Select(d => byDay.TryGetValue(d, out var c) ? new Day(d, c.Item1, c.Item2) : new Day(d, 0, 0))
            .ToList();
    }

    /// <summary>The bar height of <paramref name="count"/> when the tallest bar holds <paramref name="max"/>.</summary>
    public static double Height(long count, long max) => max == 0 ? 0 : Math.Round(count * PlotHeight / max, 2);

    public static string Svg(string title, string successLabel, string failureLabel, IReadOnlyList<Day> days)
    {
        static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
        static string E(string text) => WebUtility.HtmlEncode(text);
        var max = days.Count == 0 ? 0 : days.Max(d => d.Total);
        var width = Left * 2 + days.Count * (BarWidth + BarGap);
        var height = Top + PlotHeight + LabelHeight;
        var totalSuccess = days.Sum(d => d.Success);
        var totalFailure = days.Sum(d => d.Failure);
        var svg = new StringBuilder()
            .Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 {N(width)} {N(height)}\" ")
            .Append($"width=\"{N(width)}\" height=\"{N(height)}\">")
            .Append("<title>").Append(E(title)).Append("</title>")
            .Append("<desc>").Append(E($"{totalSuccess} {successLabel}, {totalFailure} {failureLabel} over {days.Count} days; "
                                         + $"the busiest day had {max}.")).Append("</desc>")
            .Append($"<text x=\"{N(Left)}\" y=\"10\" font-size=\"9\" fill=\"#555\">max {max}</text>")
            .Append($"<line x1=\"{N(Left)}\" y1=\"{N(Top + PlotHeight)}\" x2=\"{N(width - Left)}\" y2=\"{N(Top + PlotHeight)}\" stroke=\"#999\"/>");
        for (var i = 0; i < days.Count; i++)
        {
            var day = days[i];
            var x = Left + BarGap / 2 + i * (BarWidth + BarGap);
            var successHeight = Height(day.Success, max);
            var failureHeight = Height(day.Failure, max);
            var date = day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            svg.Append("<g class=\"day\" data-date=\"").Append(date).Append("\">")
                .Append("<title>").Append(E($"{date}: {day.Success} {successLabel}, {day.Failure} {failureLabel}")).Append("</title>")
                .Append($"<rect class=\"success\" x=\"{N(x)}\" y=\"{N(Top + PlotHeight - successHeight)}\" width=\"{N(BarWidth)}\" ")
                .Append($"height=\"{N(successHeight)}\" fill=\"{SuccessFill}\" data-count=\"{day.Success}\"/>")
                .Append($"<rect class=\"failure\" x=\"{N(x)}\" y=\"{N(Top + PlotHeight - successHeight - failureHeight)}\" width=\"{N(BarWidth)}\" ")
                .Append($"height=\"{N(failureHeight)}\" fill=\"{FailureFill}\" data-count=\"{day.Failure}\"/>")
                .Append($"<text x=\"{N(x + BarWidth / 2)}\" y=\"{N(Top + PlotHeight + 11)}\" font-size=\"8\" text-anchor=\"middle\" fill=\"#555\">")
                .Append(day.Date.Day.ToString(CultureInfo.InvariantCulture)).Append("</text></g>");
        }
        return svg.Append("</svg>").ToString();
    }
}
