import os, random, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE","ncedcloud.settings"); os.environ["DEBUG"]="True"
django.setup()
from bench.state import state_sizes, percentile
C=float(sys.argv[1]); OVER=float(sys.argv[2]); AGE=float(sys.argv[3]); CHUNK=2000; LANES=2
sizes=state_sizes(students=1_500_000, psus=315)
rest=sizes[1:]; random.Random(16).shuffle(rest); order=[sizes[0]]+rest
n=len(order); arr=[60*i/(n-1) for i in range(n)]
left=list(order); chunks_left=[(s+CHUNK-1)//CHUNK for s in order]; first=[None]*n; done=[None]*n
# discrete event: LANES lanes, each chunk takes size/(C/LANES)
import heapq
lanes=[0.0]*LANES
inflight=[0]*n
events=0
while any(d is None for d in done):
    li=min(range(LANES), key=lambda k:lanes[k]); t=lanes[li]
    cand=[i for i in range(n) if arr[i]<=t and chunks_left[i]-inflight[i]>0]
    if not cand:
        nxt=min(arr[i] for i in range(n) if chunks_left[i]-inflight[i]>0 and arr[i]>t); lanes[li]=nxt; continue
    overdue=[i for i in cand if first[i] is None and t-arr[i]>AGE]
    pool=overdue or cand
    i=min(pool,key=lambda k:(left[k], arr[k]))
    size=min(CHUNK,left[i]); left[i]-=size; chunks_left[i]-=1
    dur=size/(C/LANES); end=t+dur
    if first[i] is None: first[i]=end
    if chunks_left[i]==0: done[i]=end
    lanes[li]=end
slow=sorted((done[i]-arr[i]+OVER)/(order[i]/C+OVER) for i in range(n))
fc=sorted(first[i]-arr[i] for i in range(n))
print(f"C={C} age={AGE} total {max(done):.0f}s slowdown p50 {percentile(slow,50):.2f} p95 {percentile(slow,95):.2f} max {slow[-1]:.1f} first p95 {percentile(fc,95):.1f} max {fc[-1]:.1f}")
