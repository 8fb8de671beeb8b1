namespace Broker.Protocol.Generator;

/// <summary>
/// Generates one C# file per Kafka JSON message spec plus the ApiMessages table. Output is
/// deterministic (ordinal ordering, "\n" line endings, no timestamps) so that a test can
/// regenerate in memory and compare with the committed files.
/// </summary>
public static class MessageGenerator
{
    public const string Namespace = "Broker.Protocol.Messages";

    /// <summary>Parses every *.json under <paramref name="specsRoot"/> (recursively), sorted by path.</summary>
    public static IReadOnlyList<MessageSpec> LoadSpecs(string specsRoot)
    {
        string[] paths = Directory.GetFiles(specsRoot, "*.json", SearchOption.AllDirectories);
        Array.Sort(paths, StringComparer.Ordinal);
        var specs = new List<MessageSpec>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (string path in paths)
        {
            string relative = Path.GetRelativePath(specsRoot, path).Replace('\\', '/');
            MessageSpec spec = SpecModel.Parse(File.ReadAllText(path), relative);
            if (!names.Add(spec.Name)) throw new InvalidOperationException($"duplicate message name {spec.Name} ({relative})");
            specs.Add(spec);
        }
        return specs;
    }

    /// <summary>File name (e.g. "ProduceRequest.cs") to content for every generated file.</summary>
    public static IReadOnlyDictionary<string, string> GenerateAll(string specsRoot)
    {
        IReadOnlyList<MessageSpec> specs = LoadSpecs(specsRoot);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (MessageSpec spec in specs)
            files[spec.Name + ".cs"] = new MessageEmitter(spec).Emit();
        files["ApiMessages.cs"] = ApiMessagesEmitter.Emit(specs);
        return files;
    }

    /// <summary>Writes the generated files, deleting stale *.cs files in the output directory.</summary>
    public static int WriteAll(string specsRoot, string outputDir)
    {
        IReadOnlyDictionary<string, string> files = GenerateAll(specsRoot);
        Directory.CreateDirectory(outputDir);
        foreach (string stale in Directory.GetFiles(outputDir, "*.cs"))
            if (!files.ContainsKey(Path.GetFileName(stale))) File.Delete(stale);
        foreach (KeyValuePair<string, string> file in files)
        {
            string path = Path.Combine(outputDir, file.Key);
            if (!File.Exists(path) || File.ReadAllText(path) != file.Value) File.WriteAllText(path, file.Value);
        }
        return files.Count;
    }
}
