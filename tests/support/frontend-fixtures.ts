// What the stand-in gateway of tests/e2e/frontends.e2e.ts answers the pages it renders: the services' JSON for
// the requests those pages' getServerSideProps make, typed with the frontends' own types (copied from the upstream
// src/service/*.ts, where the pages cast the answers to them), and two users per frontend for the session check.
// Small on purpose: one or two entries per list.

/** portal src/service/Banner.ts */
interface IBanner {
    attachmentCode: string; bannerContent: string; bannerNo: number; bannerTitle: string; bannerTypeCode: string;
    uniqueId: string; newWindowAt: boolean; urlAddr: string;
}
/** portal src/service/Board.ts (IPostsForm, IPosts, IBoard); admin src/service/Board.ts BoardSavePayload is IBoard without posts. */
interface IPostsForm { postsTitle: string; postsContent: string; attachmentCode?: string }
interface IPosts extends IPostsForm {
    boardNo: number; postsNo?: number; noticeAt?: boolean; postsAnswerContent?: string; createdBy?: string; createdName?: string;
    createdDate?: string; readCount?: number; deleteAt?: number; isNew?: boolean; commentCount?: number;
    prevPosts?: Array<IPostsForm & { postsNo: number }>; nextPosts?: Array<IPostsForm & { postsNo: number }>;
}
interface BoardSavePayload {
    boardNo?: number; boardName: string; skinTypeCode: string; titleDisplayLength: number; postDisplayCount: number;
    pageDisplayCount: number; newDisplayDayCount: number; editorUseAt: boolean; userWriteAt: boolean; commentUseAt: boolean;
    uploadUseAt: boolean; uploadLimitCount: number; uploadLimitSize: number;
}
interface IBoard extends BoardSavePayload { boardNo: number; posts: IPosts[] }
/** portal src/service/Reserve.ts */
interface IReserveItemMain {
    reserveItemId: number; reserveItemName: string; categoryId: string; categoryName: string; startDate: string; endDate: string; isPossible: boolean;
}
/** admin src/service/Code.ts */
interface ICode { codeId: string; codeName: string; sortSeq: number }

const boardSettings = (boardNo: number, boardName: string): BoardSavePayload & { boardNo: number } => ({
    boardNo, boardName, skinTypeCode: "normal", titleDisplayLength: 50, postDisplayCount: 10, pageDisplayCount: 10,
    newDisplayDayCount: 3, editorUseAt: true, userWriteAt: true, commentUseAt: false, uploadUseAt: false, uploadLimitCount: 0,
    uploadLimitSize: 0,
});
const board = (boardNo: number, boardName: string, posts: IPosts[] = []): IBoard => ({ ...boardSettings(boardNo, boardName), posts });

/** One user of a frontend: what its login answers (user-service's TokenProvider headers) and how it signs in. */
export interface FixtureUser { readonly email: string; readonly accessToken: string; readonly refreshToken: string; readonly userId: string }
const user = (app: string, who: string): FixtureUser => ({
    email: `${who}@${app}.proof.test`, accessToken: `access-${app}-${who}-7f3a`, refreshToken: `refresh-${app}-${who}-c91e`, userId: `${app}-${who}-id`,
});

/** A page the test renders: its path, what getServerSideProps asks the gateway (METHOD url -> answer) and a marker. */
export interface FixturePage {
    readonly path: string;
    readonly routes: Readonly<Record<string, unknown>>;
    /** The page's props as getServerSideProps returns them from those answers (what __NEXT_DATA__ must carry). */
    readonly props: Readonly<Record<string, unknown>>;
}

// Portal home (src/pages/index.tsx): banners of types 0001-0003, the newest 3 posts of boards 1-4, the newest
// reservation items ("lg" site); SITE_ID 2 in the banner path.
const banners = { "0001": [{ attachmentCode: "", bannerContent: "proof banner", bannerNo: 1, bannerTitle: "Proof banner title", bannerTypeCode: "0001",
    uniqueId: "banner-proof-1", newWindowAt: false, urlAddr: "/" }] satisfies IBanner[] };
const newest: Record<number, IBoard> = {
    1: board(1, "Proof notices", [{ boardNo: 1, postsNo: 11, postsTitle: "Proof notice post", postsContent: "<p>notice</p>", isNew: true }]),
    2: board(2, "Proof library"), 3: board(3, "Proof questions"), 4: board(4, "Proof FAQ"),
};
const reserveItems: Record<string, IReserveItemMain[]> = {
    "proof-education": [{ reserveItemId: 5, reserveItemName: "Proof lecture room", categoryId: "education", categoryName: "Proof education",
        startDate: "2026-12-01T09:00:00", endDate: "2026-12-31T18:00:00", isPossible: true }],
};
export const portalHome: FixturePage = {
    path: "/",
    routes: {
        "GET /portal-service/api/v1/2/banners/0001,0002,0003/3": banners,
        "GET /board-service/api/v1/posts/newest/1,2,3,4/3": newest,
        "GET /reserve-item-service/api/v1/reserve-items/latest/3": reserveItems,
    },
    props: { banners, boards: newest, reserveItems },
};

// Portal board post (src/pages/board/[skin]/[board]/view/[id].tsx): the post with its board, by board and post number.
const post: IPosts & { board: IBoard } = {
    boardNo: 1, postsNo: 11, postsTitle: "Proof notice post", postsContent: "<p>Proof post body from board-service</p>",
    createdName: "Proof author", createdDate: "2026-12-01T10:00:00", readCount: 3, noticeAt: false, attachmentCode: "",
    prevPosts: [], nextPosts: [{ postsNo: 12, postsTitle: "Proof next post", postsContent: "" }], board: board(1, "Proof notices"),
};
export const portalBoardPost: FixturePage = {
    path: "/board/normal/1/view/11",
    routes: { "GET /board-service/api/v1/posts/view/1/11?keywordType=undefined&keyword=undefined": post },
    props: { board: post.board, post },
};

// Admin board edit page (src/pages/board/[id].tsx): the skin type codes and the board.
const skinTypes: ICode[] = [{ codeId: "normal", codeName: "Proof normal skin", sortSeq: 1 }, { codeId: "faq", codeName: "Proof FAQ skin", sortSeq: 2 }];
const adminBoard = boardSettings(7, "Proof admin board");
export const adminBoardPage: FixturePage = {
    path: "/board/7",
    routes: {
        "GET /portal-service/api/v1/code-details/skin_type_code/codes": skinTypes,
        "GET /board-service/api/v1/boards/7": adminBoard,
    },
    props: { boardNo: 7, initData: adminBoard, skinTypeCodeList: skinTypes },
};

export const USERS = { admin: [user("admin", "alice"), user("admin", "bob")], portal: [user("portal", "carol"), user("portal", "dave")] } as const;
