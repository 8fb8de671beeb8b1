using System.Diagnostics;
using System.Text;

namespace Broker.Integration.Tests.Clients;

/// <summary>Outcome of one external client run, with everything needed to explain a failure.</summary>
public sealed record ProcessResult(string CommandLine, int ExitCode, bool TimedOut, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public bool Succeeded => !TimedOut && ExitCode == 0;

    /// <summary>The full story for an assertion message: command, exit, both streams.</summary>
    public string Describe()
    {
        var status = TimedOut ? "TIMED OUT (killed)" : $"exit code {ExitCode}";
        return $"$ {CommandLine}\n{status} after {Elapsed.TotalSeconds:F1} s\n--- stdout ---\n{Tail(Stdout)}\n--- stderr ---\n{Tail(Stderr)}";
    }

    /// <summary>The last non-empty stdout line: our client scripts print their JSON result there.</summary>
    public string LastStdoutLine()
    {
        var lines = Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "" : lines[^1];
    }

    /// <summary>
    /// Asserts the run succeeded and parses the JSON object our client scripts print as their
    /// last stdout line.
    /// </summary>
    public System.Text.Json.JsonDocument ExpectJsonResult()
    {
        Assert.True(Succeeded, Describe());
        try
        {
            return System.Text.Json.JsonDocument.Parse(LastStdoutLine());
        }
        catch (System.Text.Json.JsonException e)
        {
            Assert.Fail($"no JSON result on the last stdout line: {e.Message}\n{Describe()}");
            throw;
        }
    }

    // Client debug logs can be long; the end is where the failure is.
    private static string Tail(string text) => text.Length <= 20_000 ? text : "...(truncated)...\n" + text[^20_000..];
}

/// <summary>
/// Runs an external Kafka client (kcat, python, node) bounded by a timeout. On timeout the whole
/// process tree is killed so a hung client cannot outlive its test.
/// </summary>
public static class ExternalProcess
{
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        TimeSpan timeout,
        string? stdin = null,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments) startInfo.ArgumentList.Add(argument);
        if (environment is not null)
            foreach (var (key, value) in environment) startInfo.Environment[key] = value;
        var commandLine = fileName + " " + string.Join(' ', arguments.Select(Quote));

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };

        var stopwatch = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (stdin is not null)
        {
            // UTF-8 without a BOM, or the first line the client reads starts with EF BB BF.
            var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(stdin);
            await process.StandardInput.BaseStream.WriteAsync(bytes);
        }
        process.StandardInput.Close();

        var timedOut = false;
        using (var cts = new CancellationTokenSource(timeout))
        {
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                // Bounded: a killed process exits promptly; this also drains the output readers.
                using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try { await process.WaitForExitAsync(drain.Token); } catch (OperationCanceledException) { }
            }
        }
        if (!timedOut)
            process.WaitForExit(); // flushes the asynchronous stdout/stderr readers

        string outText, errText;
        lock (stdout) outText = stdout.ToString();
        lock (stderr) errText = stderr.ToString();
        return new ProcessResult(commandLine, timedOut ? -1 : process.ExitCode, timedOut, outText, errText, stopwatch.Elapsed);
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or '=' or ',')
            ? argument
            : "'" + argument.Replace("'", "'\\''") + "'";
}
