"""The pages' one stylesheet and one script, inlined into every page (no build step, no extra
request): readable on a phone, and live updates over the server-sent events stream.
"""

from __future__ import annotations

__all__ = ["PAGE_SCRIPT", "STYLESHEET"]

STYLESHEET = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:#f4f5f7;color:#1d2430}
header{background:#1d2430;color:#fff;padding:.7rem 1rem;display:flex;flex-wrap:wrap;
gap:.4rem 1rem;align-items:baseline;justify-content:space-between}
header h1{font-size:1.05rem;margin:0;font-weight:600}
header nav a{color:#cfd8e3;margin-left:1rem;text-decoration:none}
header nav a.here{color:#fff;border-bottom:2px solid #fff}
main{max-width:52rem;margin:0 auto;padding:1rem}
section{background:#fff;border-radius:10px;padding:1rem 1.1rem;margin:0 0 1rem;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:1rem;margin:0 0 .6rem;text-transform:uppercase;letter-spacing:.04em;color:#566173}
.rollup{border-left:10px solid #888}
.rollup .word{font-size:2rem;font-weight:700;margin:0 0 .2rem}
.rollup p{margin:.2rem 0}
.rollup.installing{border-color:#2f6fde}.rollup.installing .word{color:#2257b5}
.rollup.ready,.rollup.healthy{border-color:#1f9d55}.rollup.ready .word,
.rollup.healthy .word{color:#167a41}
.rollup.warning{border-color:#d69e2e}.rollup.warning .word{color:#98640f}
.rollup.failed{border-color:#d64545}.rollup.failed .word{color:#b42323}
.stale{background:#fff4d6;border:1px solid #e8c35a}
.login a.button{display:inline-block;background:#167a41;color:#fff;padding:.7rem 1.1rem;
border-radius:8px;font-size:1.15rem;font-weight:600;text-decoration:none;word-break:break-all}
.blocker{border-left:6px solid #d64545}
.blocker.waiting{border-left-color:#2f6fde}
.next{background:#f1f5ff;border-radius:6px;padding:.5rem .7rem;margin:.5rem 0 0}
.muted{color:#667085;font-size:.9rem}
ul.checklist{list-style:none;margin:0;padding:0}
ul.checklist li{padding:.35rem 0;border-bottom:1px solid #eef0f3;display:flex}
ul.checklist .label{flex:1}
ul.checklist li:last-child{border-bottom:0}
.mark{display:inline-block;width:1.6rem;font-weight:700}
.mark{flex:0 0 1.6rem}
.ok .mark{color:#167a41}.todo .mark{color:#b42323}.pending .mark{color:#2257b5}
.issue .mark{color:#98640f}.later .mark,.later{color:#8a94a3}
.reasons{margin:.15rem 0 0;color:#566173;font-size:.9rem}
th{white-space:nowrap}
ul.events{list-style:none;margin:0;padding:0;font-size:.92rem}
ul.events li{padding:.35rem 0;border-bottom:1px solid #eef0f3;word-break:break-word}
.warn{color:#b42323;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.9rem}
.scroll{overflow-x:auto;max-width:100%}
th,td{text-align:left;padding:.3rem .4rem;border-bottom:1px solid #eef0f3;vertical-align:top}
td{word-break:break-word}
pre{background:#1d2430;color:#e6edf3;padding:.7rem;border-radius:6px;overflow-x:auto;
white-space:pre-wrap;word-break:break-all;font-size:.85rem}
footer{color:#667085;font-size:.85rem;text-align:center;padding:0 1rem 2rem}
form input[type=password]{width:100%;font-size:1.1rem;padding:.6rem;margin:.4rem 0 .8rem;
border:1px solid #c4cad3;border-radius:6px}
form button{font-size:1.05rem;padding:.6rem 1.2rem;border:0;border-radius:6px;
background:#2257b5;color:#fff}
.error{color:#b42323}
@media (max-width:560px){main{padding:.6rem}.rollup .word{font-size:1.6rem}
header nav a{margin:0 1rem 0 0}table{font-size:.82rem}}
"""

# Live updates: the server-sent events stream announces a new status version; the page then
# fetches itself and swaps <main>. Without JavaScript the <noscript> meta refresh reloads.
PAGE_SCRIPT = """
(function(){
  if(!window.EventSource||!window.fetch||!window.DOMParser){return;}
  var es=new EventSource('/api/events');
  function main(){return document.querySelector('main');}
  function refresh(){
    fetch(location.pathname,{credentials:'same-origin',headers:{'Accept':'text/html'}})
      .then(function(r){if(r.status!==200){location.reload();return null;}return r.text();})
      .then(function(t){
        if(!t){return;}
        var d=new DOMParser().parseFromString(t,'text/html');
        var m=d.querySelector('main');if(m){main().replaceWith(m);}
      }).catch(function(){});
  }
  es.onerror=function(){
    // A refused reconnect (session expired, service restarting) closes the stream for good:
    // fall back to reloading, which also shows the login form if that is what is needed.
    if(es.readyState===2){setTimeout(function(){location.reload();},15000);}
  };
  es.addEventListener('status',function(e){
    var d;try{d=JSON.parse(e.data);}catch(x){return;}
    if(String(d.version)!==main().getAttribute('data-version')){refresh();return;}
    var age=document.getElementById('age');
    if(age&&typeof d.ageText==='string'){age.textContent=d.ageText;}
  });
})();
"""
