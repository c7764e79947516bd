import RefitCore

/// `refit report`'s page: one self-contained HTML file (inline CSS, inline SVG plots drawn by
/// Refit, a small inline script, the data it needs embedded as JSON) that fetches nothing, so it
/// can be mailed or archived. Rendering is a pure function of the snapshot and the scope: no
/// I/O, no clock (the caller passes `generatedAt`).
///
/// Sections (README, *refit report*): the slice grid, the deployment timeline per endpoint, model
/// quality plots, run durations and data-to-deploy latency, and the failures list. Every string
/// from the database is HTML-escaped; the embedded JSON escapes `<`, `>` and `&`; URL queries (SAS
/// tokens) are cut from endpoints and model locations.
public struct ReportPage: Sendable {
    /// What the report covers, as the operator asked for it.
    public struct Scope: Hashable, Sendable {
        public var pipeline: String?
        public var from: Instant?
        public var to: Instant?
        /// The database's name as shown in the header.
        public var source: String

        public init(pipeline: String? = nil, from: Instant? = nil, to: Instant? = nil, source: String) {
            self.pipeline = pipeline; self.from = from; self.to = to; self.source = source
        }
    }

    public var snapshot: HistorySnapshot
    public var scope: Scope
    public var generatedAt: Instant
    /// Whether the database holds any window at all (to tell "nothing yet" from "nothing in this range").
    public var databaseHasWindows: Bool

    public init(snapshot: HistorySnapshot, scope: Scope, generatedAt: Instant, databaseHasWindows: Bool) {
        self.snapshot = snapshot; self.scope = scope; self.generatedAt = generatedAt; self.databaseHasWindows = databaseHasWindows
    }

    /// Why the page has nothing to show, or nil when it has.
    public var emptyMessage: String? {
        guard snapshot.windows.isEmpty else { return nil }
        if !databaseHasWindows {
            return "Nothing to show yet: the database has no activity windows; run `refit tick` or `refit run` first."
        }
        var what = scope.pipeline.map { "pipeline \($0)" } ?? "any pipeline"
        if scope.from != nil || scope.to != nil {
            what += " between \(ReportTime.full(scope.from)) and \(ReportTime.full(scope.to))"
        }
        return "No activity window of \(what) is recorded."
    }

    public func render() -> String {
        var html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        // Nothing may be fetched: no network, no external font or script.
        html += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        html += "script-src 'unsafe-inline'; img-src data:\">"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        html += "<title>\(HTMLText.escape("Refit report" + (scope.pipeline.map { " — \($0)" } ?? "")))</title>"
        html += "<style>\(Self.style)</style></head><body data-report-ready=\"false\">"
        html += header()
        var cells: [(String, JSONText)] = []
        if let message = emptyMessage {
            html += "<p class=\"nothing\" id=\"nothing\" data-empty=\"true\">\(HTMLText.escape(message))</p>"
        } else {
            html += "<nav><a href=\"#grid\">Slice grid</a> · <a href=\"#deployments\">Deployments</a> · <a href=\"#quality\">Model quality</a>"
            html += " · <a href=\"#timings\">Durations and latency</a> · <a href=\"#failures\">Failures</a></nav>"
            let grid = SliceGrid(snapshot: snapshot).render()
            cells = grid.cells
            html += grid.html
            html += DeploymentTimeline(snapshot: snapshot, generatedAt: generatedAt).render()
            html += QualityPlots(snapshot: snapshot).render()
            html += RunTimings(snapshot: snapshot).render()
            html += FailureList(snapshot: snapshot).render()
        }
        let data = JSONText.object([("generatedAt", .string(generatedAt.iso8601)), ("cells", .object(cells))])
        html += "<script type=\"application/json\" id=\"refit-data\">\(data.render())</script>"
        html += "<script>\(Self.script)</script></body></html>\n"
        return html
    }

    private func header() -> String {
        let failed = snapshot.runs.filter { FailureList.failedStatuses.contains($0.status) }.count
        var html = "<header><h1>Refit report</h1><p class=\"meta\">"
        html += "database <code>\(HTMLText.escape(scope.source))</code> · "
        html += HTMLText.escape(scope.pipeline.map { "pipeline \($0)" } ?? "every pipeline")
        if scope.from != nil || scope.to != nil {
            html += " · windows from \(ReportTime.full(scope.from)) to \(ReportTime.full(scope.to))"
        }
        html += " · generated <time>\(generatedAt.iso8601)</time></p>"
        html += "<dl class=\"summary\">"
        for (name, value) in [("windows", snapshot.windows.count), ("data slices", snapshot.slices.count), ("attempts", snapshot.runs.count),
                              ("deployments", snapshot.deployments.count), ("evaluated windows", snapshot.evaluations.count),
                              ("failed attempts", failed)] {
            html += "<div><dt>\(name)</dt><dd" + HTMLText.attribute("data-count", name) + ">\(value)</dd></div>"
        }
        return html + "</dl></header>"
    }

    static let style = """
        body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 24px 48px;color:#212121;background:#fff}
        h1{font-size:22px;margin:18px 0 4px}h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #ddd;padding-bottom:4px}
        h3{font-size:15px;margin:16px 0 6px}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
        .meta,.hint{color:#555;margin:4px 0}nav{margin:10px 0}nav a{color:#1565c0}
        .summary{display:flex;flex-wrap:wrap;gap:10px 28px;margin:10px 0}.summary div{display:flex;gap:6px}.summary dt{color:#555}
        .summary dd{margin:0;font-weight:600}.nothing{font-size:16px;padding:16px;background:#f5f5f5;border-radius:6px}
        .legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:6px 18px;margin:8px 0}
        .legend li{display:flex;align-items:center;gap:6px}
        .swatch{display:inline-block;width:14px;height:14px;border-radius:3px;border:1px solid #0002;position:relative}
        .grid-scroll{overflow-x:auto;max-width:100%}table.grid{border-collapse:separate;border-spacing:2px}
        table.grid th.column{font-weight:normal;font-size:11px;color:#555;vertical-align:bottom;padding:0}
        table.grid th.column span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}
        table.grid th.row-label{text-align:right;font-weight:600;padding-right:8px;white-space:nowrap}
        td.cell{min-width:18px;height:22px;border-radius:3px;cursor:pointer;position:relative;text-align:center}
        td.cell:hover,td.cell:focus,td.cell.selected{outline:2px solid #212121;outline-offset:1px}td.empty{min-width:18px}
        .mark{font-size:10px;color:#000a;font-weight:700}
        .details{margin:12px 0;padding:10px 14px;border:1px solid #ccc;border-radius:6px;background:#fafafa}
        .details dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:6px 0}.details dt{color:#555}
        .details dd{margin:0}table.list{border-collapse:collapse;margin:8px 0;font-size:13px}
        table.list th,table.list td{border-bottom:1px solid #e0e0e0;padding:3px 8px;text-align:left;vertical-align:top}
        table.list th{background:#f5f5f5}summary{cursor:pointer;color:#1565c0;margin:6px 0}.plots{display:flex;flex-wrap:wrap;gap:12px}
        svg{background:#fff;border:1px solid #eee;border-radius:4px;max-width:100%;height:auto}
        svg .grid{stroke:#eee}svg .axis{stroke:#9e9e9e}svg .tick,svg .lane-label{font-size:10px;fill:#616161}
        svg .axis-label{font-size:11px;fill:#616161}svg .plot-title{font-size:13px;font-weight:600;fill:#212121}
        svg .plot-empty{font-size:12px;fill:#757575}svg .line{stroke-width:1.5}
        """

    /// Counts cells per state into the legend, wires the details panel (a shown cell's details are
    /// linkable: `report.html#cell=ID` opens them), then marks the page ready
    /// (`body[data-report-ready=true]`, which the browser test reads after the script ran).
    static let script = """
        (function(){
        var data=JSON.parse(document.getElementById('refit-data').textContent);
        var cells=document.querySelectorAll('td.cell');var counts={};
        var panel=document.getElementById('details');var selected=null;
        function text(tag,value,cls){var e=document.createElement(tag);e.textContent=value==null?'':String(value);if(cls)e.className=cls;return e;}
        function show(cell){
          var d=data.cells[cell.getAttribute('data-id')];if(!d||!panel)return;
          if(selected)selected.classList.remove('selected');selected=cell;cell.classList.add('selected');
          document.getElementById('details-title').textContent=d.title;
          var dl=document.getElementById('details-fields');dl.textContent='';
          var fields=[['state',d.state+(d.substate?'/'+d.substate:'')],['window',d.windowStart+' – '+d.windowEnd]];
          if(d.kind==='slice'){fields.push(['checks',d.checks],['message',d.message],['last change',d.updatedAt],['data landed',d.landedAt]);}
          else{fields.push(['attempts',d.attempts.length],['last change',d.updatedAt]);}
          fields.forEach(function(f){if(f[1]==null||f[1]==='')return;dl.appendChild(text('dt',f[0]));dl.appendChild(text('dd',f[1]));});
          var table=document.getElementById('details-attempts');table.textContent='';
          if(d.attempts.length){
            var head=document.createElement('tr');
            ['#','trigger','status','started','ended','job id','error','run id'].forEach(function(h){head.appendChild(text('th',h));});
            table.appendChild(head);
            d.attempts.forEach(function(a){var tr=document.createElement('tr');tr.className='attempt';
              [a.attempt,a.trigger,a.status+(a.substatus?'/'+a.substatus:''),a.startedAt,a.endedAt,a.jobId,
               a.error?(a.errorClass?a.errorClass+': ':'')+a.error:'',a.runId].forEach(function(v){tr.appendChild(text('td',v));});
              table.appendChild(tr);});
          }
          panel.hidden=false;
          if(history.replaceState)history.replaceState(null,'','#cell='+encodeURIComponent(cell.getAttribute('data-id')));
        }
        for(var i=0;i<cells.length;i++){(function(cell){
          var s=cell.getAttribute('data-state');counts[s]=(counts[s]||0)+1;
          cell.addEventListener('click',function(){show(cell);});
          cell.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();show(cell);}});
        })(cells[i]);}
        var items=document.querySelectorAll('li.legend-item');
        for(var j=0;j<items.length;j++){var n=counts[items[j].getAttribute('data-state')]||0;
          items[j].setAttribute('data-count',String(n));items[j].querySelector('.legend-count').textContent='('+n+')';}
        var linked=/^#cell=(.+)$/.exec(location.hash);
        if(linked){for(var k=0;k<cells.length;k++){if(cells[k].getAttribute('data-id')===decodeURIComponent(linked[1])){show(cells[k]);break;}}}
        document.body.setAttribute('data-report-ready','true');
        })();
        """
}
