// Live updates: the server-sent event stream announces a new status version; the page then
// fetches itself and swaps <main>, keeping the sections the admin folded or opened. Without
// JavaScript the <noscript> meta refresh reloads the page instead.
(function(){
  if(!window.EventSource||!window.fetch||!window.DOMParser){return;}
  var es=new EventSource('/api/events');
  function main(){return document.querySelector('main');}
  function folds(root){
    var state={};
    root.querySelectorAll('details[id]').forEach(function(d){state[d.id]=d.open;});
    return state;
  }
  function refresh(){
    fetch(location.pathname,{credentials:'same-origin',headers:{'Accept':'text/html'}})
      .then(function(r){if(r.status!==200){location.reload();return null;}return r.text();})
      .then(function(t){
        if(!t){return;}
        var d=new DOMParser().parseFromString(t,'text/html');
        var m=d.querySelector('main');if(!m){return;}
        var kept=folds(main());
        m.querySelectorAll('details[id]').forEach(function(det){
          if(Object.prototype.hasOwnProperty.call(kept,det.id)){det.open=kept[det.id];}
        });
        main().replaceWith(m);
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
